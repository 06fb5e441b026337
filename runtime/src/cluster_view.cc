#include "cluster_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

namespace prism::runtime {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

}  // namespace

ClusterView::ClusterView(Rank self, std::vector<ResourceSet> totals,
                         std::vector<std::string> hostnames, const Options& options)
    : self_(self),
      totals_(std::move(totals)),
      hostnames_(std::move(hostnames)),
      options_(options),
      state_(totals_.size()),
      random_(options.seed ^ (static_cast<uint64_t>(self) * 0x9e3779b97f4a7c15ULL)) {
  hostnames_.resize(totals_.size());
  for (size_t r = 0; r < totals_.size(); ++r) {
    state_[r].report.total = totals_[r];
    state_[r].report.available = totals_[r];
  }
}

int64_t ClusterView::AvailableLocked(Rank rank, const std::string& name) const {
  const RankState& s = state_[rank];
  int64_t units =
      s.report.available.Units(name) - s.sent_since.Units(name) + s.returned_since.Units(name);
  return std::min(units, s.report.total.Units(name));
}

int64_t ClusterView::WaitingLocked(Rank rank) const {
  const RankState& s = state_[rank];
  return std::max<int64_t>(0, s.report.waiting - s.finished_since);
}

ResourceReport ClusterView::EstimateLocked(Rank rank) const {
  if (rank == self_ && local_) return local_();
  const RankState& s = state_[rank];
  ResourceReport out = s.report;
  for (const auto& [name, units] : s.report.total.entries())
    out.available.SetUnits(name, AvailableLocked(rank, name));
  out.waiting = WaitingLocked(rank);
  return out;
}

bool ClusterView::FeasibleLocked(const ResourceSet& demand, Rank rank) const {
  return state_[rank].alive && demand.FitsIn(totals_[rank]);
}

std::string ClusterView::MissingLocked(const ResourceSet& demand) const {
  for (const auto& [name, units] : demand.entries()) {
    bool someone = false;
    for (size_t r = 0; r < totals_.size(); ++r)
      someone |= state_[r].alive && totals_[r].Units(name) >= units;
    if (!someone) return name;
  }
  return "";
}

// One Pick's look at the ranks: read without copying reports (this rank's own state once).
class ClusterView::Evaluator {
 public:
  Evaluator(const ClusterView& view, const ResourceSet& demand, const Request& request)
      : view_(view),
        demand_(demand),
        holds_(request.holds != nullptr ? *request.holds : demand),
        request_(request) {}

  int64_t Available(Rank r, const std::string& name) const {
    if (const ResourceReport* local = Local(r)) return local->available.Units(name);
    return view_.AvailableLocked(r, name);
  }
  int64_t Waiting(Rank r) const {
    if (const ResourceReport* local = Local(r)) return local->waiting;
    return view_.WaitingLocked(r);
  }
  bool Feasible(Rank r) const {
    return !(request_.exclude_self && r == view_.self_) && view_.FeasibleLocked(demand_, r);
  }
  // Critical utilisation: the most used share of CPU or of any resource the work asks for, plus
  // queued work (and, for actors, the actors this owner placed there) per CPU.
  Scored Eval(Rank r) const {
    const ResourceSet& total = view_.totals_[r];
    auto used_share = [&](const std::string& name) {
      int64_t t = total.Units(name);
      if (t <= 0) return 0.0;
      return static_cast<double>(t - Available(r, name)) / static_cast<double>(t);
    };
    double score = used_share("CPU");
    for (const auto& [name, units] : demand_.entries()) {
      if (units > 0 && name != "CPU") score = std::max(score, used_share(name));
    }
    double cpus = std::max(1.0, static_cast<double>(total.Units("CPU")) / kResourceUnit);
    int64_t waiting = Waiting(r);
    score += static_cast<double>(waiting) / cpus;
    if (request_.for_actor) score += static_cast<double>(view_.state_[r].actors_placed) / cpus;
    bool room = !request_.exclude_self || waiting == 0;
    for (const auto& [name, units] : holds_.entries()) room = room && Available(r, name) >= units;
    return Scored{r, score, room};
  }

 private:
  const ClusterView& view_;
  const ResourceSet& demand_;
  const ResourceSet& holds_;
  const Request& request_;
  // This rank's live state, read once and only when this rank is looked at.
  const ResourceReport* Local(Rank r) const {
    if (r != view_.self_ || !view_.local_) return nullptr;
    if (!local_) local_ = view_.local_();
    return &*local_;
  }
  mutable std::optional<ResourceReport> local_;
};

ClusterView::Decision ClusterView::Pick(const ResourceSet& demand, const Request& request) {
  std::lock_guard lock(mu_);
  int n = static_cast<int>(state_.size());
  Decision decision;
  Evaluator eval(*this, demand, request);

  std::vector<Scored> scored;
  if (request.kind == Request::kAffinity) {
    for (Rank r : request.affinity) {
      if (r >= 0 && r < n && eval.Feasible(r)) scored.push_back(eval.Eval(r));
    }
    if (scored.empty() && !request.soft) {
      decision.infeasible = true;
      decision.why = "the node it must run on is dead or can never hold it";
      return decision;
    }
    if (!scored.empty()) {
      // Hard or soft, it stays there (waiting there for resources); with several ranks (a host),
      // the one with room and the lowest score.
      auto best =
          std::min_element(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
            return a.room != b.room ? a.room : a.score < b.score;
          });
      decision.rank = best->rank;
      return decision;
    }
  }

  if (request.kind == Request::kSpread) {
    // Round-robin (Ray's): from the rank after the last one chosen, the first with room, else
    // the first feasible one.
    Rank first_feasible = kNoRank;
    for (int k = 0; k < n; ++k) {
      Rank r = static_cast<Rank>((spread_next_ + static_cast<uint64_t>(k)) % n);
      if (!eval.Feasible(r)) continue;
      if (first_feasible == kNoRank) first_feasible = r;
      if (eval.Eval(r).room) {
        decision.rank = r;
        break;
      }
    }
    if (decision.rank == kNoRank) decision.rank = first_feasible;
    if (decision.rank != kNoRank) {
      spread_next_ = static_cast<uint64_t>(decision.rank) + 1;
      return decision;
    }
    decision.infeasible = true;
    decision.why = MissingLocked(demand);
    return decision;
  }

  bool resource_free = true;
  for (const auto& [name, units] : demand.entries()) resource_free &= units == 0;
  bool task = !request.for_actor;
  if (task && !request.exclude_self) {
    // Fast paths, without looking at every rank: the arguments' rank when it has room (data
    // locality), then this rank while it is below the spread threshold (pack).
    // A preferred rank that looks busy is weighed against all the others below instead.
    bool preferred =
        request.preferred >= 0 && request.preferred < n && eval.Feasible(request.preferred);
    if (preferred && eval.Eval(request.preferred).room) {
      decision.rank = request.preferred;
      return decision;
    }
    if (!preferred && eval.Feasible(self_)) {
      Scored s = eval.Eval(self_);
      if (s.room && s.score < options_.spread_threshold) {
        decision.rank = self_;
        return decision;
      }
    }
  }

  // Candidates: every rank, or on a large view a random sample of them plus this rank and the
  // arguments' rank (the power of many choices); a sample with no feasible rank falls back to
  // every rank.
  auto consider = [&](Rank r) {
    if (r < 0 || r >= n || !eval.Feasible(r)) return;
    for (const Scored& s : scored) {
      if (s.rank == r) return;
    }
    scored.push_back(eval.Eval(r));
  };
  if (n > kSampleRanks) {
    consider(self_);
    consider(request.preferred);
    for (int k = 0; k < kSampleRanks; ++k) consider(static_cast<Rank>(random_() % n));
  }
  if (scored.empty()) {
    for (Rank r = 0; r < n; ++r) {
      if (eval.Feasible(r)) scored.push_back(eval.Eval(r));
    }
  }
  if (scored.empty()) {
    decision.infeasible = !request.exclude_self;
    decision.why = MissingLocked(demand);
    return decision;
  }

  if (request.for_actor && resource_free) {
    // An actor that needs nothing goes anywhere (SCHED-04).
    decision.rank = scored[random_() % scored.size()].rank;
    return decision;
  }

  bool any_room = std::any_of(scored.begin(), scored.end(), [](const Scored& s) { return s.room; });
  if (request.exclude_self) {
    // Spillback: only a rank with room now, else keep it.
    const Scored* best = nullptr;
    for (const Scored& s : scored) {
      if (s.room && (best == nullptr || s.score < best->score)) best = &s;
    }
    if (best != nullptr) decision.rank = best->rank;
    return decision;
  }

  // Data locality: the arguments' rank is within one task per CPU of the least loaded rank (its
  // last report may still count the task that made the argument).
  if (task && request.preferred >= 0 && request.preferred < n) {
    double least = kInfinity;
    const Scored* preferred = nullptr;
    for (const Scored& s : scored) {
      least = std::min(least, s.score);
      if (s.rank == request.preferred) preferred = &s;
    }
    if (preferred != nullptr) {
      double cpus =
          std::max(1.0, static_cast<double>(totals_[preferred->rank].Units("CPU")) / kResourceUnit);
      if (preferred->score <= least + 1.0 / cpus) {
        decision.rank = preferred->rank;
        return decision;
      }
    }
  }

  // The ranks with room (or, when none has room, all of them: the least loaded wins). Scores
  // below the threshold count as 0 (all equally good); ties are broken at random.
  if (any_room) std::erase_if(scored, [](const Scored& s) { return !s.room; });
  for (Scored& s : scored) {
    if (s.score < options_.spread_threshold) s.score = 0;
  }
  int64_t k = 1;
  if (any_room) {
    k = std::max<int64_t>(static_cast<int64_t>(options_.top_k_fraction * static_cast<double>(n)),
                          std::max<int64_t>(1, options_.top_k_absolute));
  }
  if (k == 1) {
    // One pass: a uniform choice among the lowest scores.
    const Scored* best = nullptr;
    uint64_t ties = 0;
    for (const Scored& s : scored) {
      if (best == nullptr || s.score < best->score) {
        best = &s;
        ties = 1;
      } else if (s.score == best->score && random_() % ++ties == 0) {
        best = &s;
      }
    }
    decision.rank = best->rank;
    return decision;
  }
  std::shuffle(scored.begin(), scored.end(), random_);
  k = std::min<int64_t>(k, static_cast<int64_t>(scored.size()));
  std::nth_element(scored.begin(), scored.begin() + (k - 1), scored.end(),
                   [](const Scored& a, const Scored& b) { return a.score < b.score; });
  decision.rank = scored[random_() % static_cast<uint64_t>(k)].rank;
  return decision;
}

bool ClusterView::HasRoom(Rank rank, const ResourceSet& demand) const {
  std::lock_guard lock(mu_);
  if (rank < 0 || rank >= size() || !state_[rank].alive) return false;
  return demand.FitsIn(EstimateLocked(rank).available);
}

std::vector<Rank> ClusterView::ResolveNode(const std::string& node, const std::string& job_hex,
                                           std::string* error) const {
  std::vector<Rank> out;
  int n = size();
  auto parse_rank = [&](std::string_view digits) {
    int value = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, 10);
    if (ec != std::errc() || end != digits.data() + digits.size()) return -1;
    return value;
  };
  if (node.rfind("rank:", 0) == 0) {
    int r = parse_rank(std::string_view(node).substr(5));
    if (r >= 0 && r < n) out.push_back(r);
  } else if (node.rfind("host:", 0) == 0) {
    std::string host = node.substr(5);
    for (Rank r = 0; r < n; ++r) {
      if (hostnames_[r] == host) out.push_back(r);
    }
  } else if (node.size() == 32 && node.compare(0, 16, job_hex) == 0) {
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(node.data() + 16, node.data() + 32, value, 16);
    if (ec == std::errc() && end == node.data() + 32 && value < static_cast<uint64_t>(n))
      out.push_back(static_cast<Rank>(value));
  }
  if (out.empty() && error != nullptr) {
    *error = fmt::format(
        "'{}' names no node of this job (a node id from prism::Nodes(), rank:<0..{}> or "
        "host:<name>)",
        node, n - 1);
  }
  return out;
}

void ClusterView::OnReport(Rank rank, const ResourceReport& report) {
  std::lock_guard lock(mu_);
  RankState& s = state_[rank];
  if (s.reported && report.seq <= s.report.seq) return;
  s.reported = true;
  s.report = report;
  s.sent_since = ResourceSet();
  s.returned_since = ResourceSet();
  s.finished_since = 0;
  ++s.epoch;
}

uint64_t ClusterView::OnSubmitted(Rank rank, const ResourceSet& demand) {
  std::lock_guard lock(mu_);
  RankState& s = state_[rank];
  if (rank != self_) s.sent_since.Add(demand);
  return s.epoch;
}

void ClusterView::OnFinished(Rank rank, const ResourceSet& demand, uint64_t epoch) {
  std::lock_guard lock(mu_);
  RankState& s = state_[rank];
  if (rank == self_) return;
  if (epoch == s.epoch) {
    s.sent_since.Subtract(demand);  // sent since the last report: no report counts it
  } else {
    // Sent before the last report, which counted it (running or queued): a result leaves its
    // rank before the report that shows its resources free, so that report came earlier.
    s.returned_since.Add(demand);
    ++s.finished_since;
  }
}

void ClusterView::OnActorPlaced(Rank rank) {
  std::lock_guard lock(mu_);
  ++state_[rank].actors_placed;
}

void ClusterView::MarkDead(Rank rank) {
  std::lock_guard lock(mu_);
  state_[rank].alive = false;
}

bool ClusterView::IsAlive(Rank rank) const {
  std::lock_guard lock(mu_);
  return state_[rank].alive;
}

std::vector<ClusterView::RankSnapshot> ClusterView::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<RankSnapshot> out;
  out.reserve(state_.size());
  for (Rank r = 0; r < size(); ++r) {
    ResourceReport estimate = EstimateLocked(r);
    out.push_back(RankSnapshot{r, state_[r].alive, std::move(estimate.total),
                               std::move(estimate.available), estimate.waiting});
  }
  return out;
}

}  // namespace prism::runtime
