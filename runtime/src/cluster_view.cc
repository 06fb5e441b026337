#include "cluster_view.h"

#include <algorithm>
#include <limits>

namespace prism::runtime {

ClusterView::ClusterView(Rank self, std::vector<ResourceSet> capacity)
    : self_(self), capacity_(std::move(capacity)), state_(capacity_.size()) {}

int64_t ClusterView::EstimatedLoadLocked(const RankState& s) const {
  // The last report plus what I sent since; never less than what I alone have there.
  int64_t estimate = s.reported_load + (s.mine_in_flight - s.mine_at_report);
  return std::max(estimate, s.mine_in_flight);
}

Rank ClusterView::Pick(const ResourceSet& demand, std::string* missing, bool for_actor,
                       Rank preferred) {
  std::lock_guard lock(mu_);
  int n = static_cast<int>(state_.size());
  double preferred_score = std::numeric_limits<double>::infinity();
  Rank best = kNoRank;
  double best_score = std::numeric_limits<double>::infinity();
  bool any_fits_alive = false;
  // Start the scan at a rotating rank so that ties spread instead of piling on rank 1.
  uint64_t start = rotation_++;
  for (int k = 0; k < n; ++k) {
    Rank r = static_cast<Rank>((start + static_cast<uint64_t>(k)) % static_cast<uint64_t>(n));
    const RankState& s = state_[r];
    if (!s.alive || !demand.FitsIn(capacity_[r])) continue;
    any_fits_alive = true;
    double cpus =
        std::max<double>(1.0, static_cast<double>(capacity_[r].Units("CPU")) / kResourceUnit);
    int64_t load = EstimatedLoadLocked(s) + (for_actor ? s.actors_placed : 0);
    double score = static_cast<double>(load + 1) / cpus;
    if (r == preferred) preferred_score = score;
    // Prefer this rank on ties: no network hop.
    if (score < best_score || (score == best_score && r == self_)) {
      best = r;
      best_score = score;
    }
  }
  if (!any_fits_alive && missing != nullptr) {
    // Name the first resource that no live rank has enough of.
    for (const auto& [name, units] : demand.entries()) {
      bool someone = false;
      for (int r = 0; r < n; ++r) someone |= state_[r].alive && capacity_[r].Units(name) >= units;
      if (!someone) {
        *missing = name;
        break;
      }
    }
  }
  // Data locality: the rank holding the arguments wins unless it is busier than the best rank by
  // more than one task per CPU (the load it reported with its last result may still count it).
  if (preferred_score != std::numeric_limits<double>::infinity() &&
      preferred_score <= best_score + 1.0)
    return preferred;
  return best;
}

void ClusterView::OnSubmitted(Rank rank) {
  std::lock_guard lock(mu_);
  ++state_[rank].mine_in_flight;
}

void ClusterView::OnActorPlaced(Rank rank) {
  std::lock_guard lock(mu_);
  ++state_[rank].actors_placed;
}

void ClusterView::OnFinished(Rank rank, int64_t load) {
  std::lock_guard lock(mu_);
  RankState& s = state_[rank];
  s.mine_in_flight = std::max<int64_t>(0, s.mine_in_flight - 1);
  s.reported_load = load;
  s.mine_at_report = s.mine_in_flight;
}

void ClusterView::MarkDead(Rank rank) {
  std::lock_guard lock(mu_);
  state_[rank].alive = false;
}

bool ClusterView::IsAlive(Rank rank) const {
  std::lock_guard lock(mu_);
  return state_[rank].alive;
}

}  // namespace prism::runtime
