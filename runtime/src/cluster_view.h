#pragma once
// ClusterView: an owner's picture of where work can go, and its scheduling policies (SCHED-01..08).
//
// What it knows of each rank: its total resources (exchanged at start-up), liveness, and what it
// has available (the rank's last resource report, less what this rank sent there since, plus what
// this rank's earlier work there gave back since; this rank's own figure is read live from its
// worker pool). Owners decide from this cached view; the
// controller is not on the path. Policies:
// - DEFAULT (hybrid, Ray's): a rank's score is its critical utilisation (the largest used share
//   of any resource the work asks for, plus queued work per CPU), 0 below `spread_threshold`.
//   This rank (or the rank holding the task's arguments) wins while it is below the threshold and
//   has room; otherwise one of the k lowest-scoring ranks with room is picked at random (k =
//   max(top_k_fraction x ranks, top_k_absolute)); with no room anywhere, the lowest score. On
//   views of more than 64 ranks the scores are those of 64 random ranks (plus this rank and the
//   arguments' rank), so a decision costs the same on 100 or 10,000 ranks.
// - SPREAD: round-robin over the ranks with room, else over the feasible ones.
// - Node affinity: the named rank(s) when alive and feasible; else soft falls back to DEFAULT and
//   hard is unschedulable.
// - Actors without resources (SCHED-04) go to a random feasible rank.
// Feasibility is against totals: a batch allocation does not grow, so work no live rank could
// ever hold is reported as infeasible with the missing resource named.
//
// Thread contract: thread-safe.

#include <cstdint>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "resources.h"

namespace prism::runtime {

/// What a rank reports of itself (kResourceReport), and what its pool says live.
struct ResourceReport {
  uint64_t seq = 0;  // increases with every report of a rank
  ResourceSet total;
  ResourceSet available;
  int64_t waiting = 0;  // work queued for resources
};

class ClusterView {
 public:
  struct Options {
    double spread_threshold = 0.5;
    double top_k_fraction = 0.2;
    int64_t top_k_absolute = 1;
    uint64_t seed = 0;
  };

  /// What the work asks for beyond its resources.
  struct Request {
    enum Kind : uint8_t { kDefault = 0, kSpread = 1, kAffinity = 2 };
    Kind kind = kDefault;
    std::vector<Rank> affinity;  // kAffinity: the ranks named (a host may have several)
    bool soft = false;
    Rank preferred = kNoRank;  // where its arguments are (data locality, tasks only)
    bool for_actor = false;
    /// What the work holds while it runs, when that differs from the demand it is placed by (an
    /// actor without explicit CPU is placed by 1 CPU and holds none): room is checked for this.
    const ResourceSet* holds = nullptr;
    bool exclude_self = false;  // spillback: somewhere else
  };

  struct Decision {
    Rank rank = kNoRank;
    bool infeasible = false;  // no live rank could ever hold it (or hard affinity failed)
    std::string why;          // when rank == kNoRank: the missing resource, or what failed
  };

  ClusterView(Rank self, std::vector<ResourceSet> totals, std::vector<std::string> hostnames,
              const Options& options);

  /// This rank's live state (its worker pool); without it, reports of itself are used.
  void SetLocalSource(std::function<ResourceReport()> source) { local_ = std::move(source); }

  Decision Pick(const ResourceSet& demand, const Request& request);

  /// True when `rank` is alive and has `demand` available now (by this view).
  bool HasRoom(Rank rank, const ResourceSet& demand) const;

  /// The ranks a node affinity target names: a node id (GetNodeId), "rank:<k>" or
  /// "host:<name>"; empty with `error` set when it names none.
  std::vector<Rank> ResolveNode(const std::string& node, const std::string& job_hex,
                                std::string* error) const;

  /// A rank reported (ignored when older than the last one).
  void OnReport(Rank rank, const ResourceReport& report);
  /// This rank sent work needing `demand` to `rank`; returns the report epoch to hand back to
  /// OnFinished.
  uint64_t OnSubmitted(Rank rank, const ResourceSet& demand);
  /// That work finished (or came back).
  void OnFinished(Rank rank, const ResourceSet& demand, uint64_t epoch);
  void OnActorPlaced(Rank rank);
  void MarkDead(Rank rank);
  bool IsAlive(Rank rank) const;
  /// Total resources at start-up.
  const ResourceSet& capacity(Rank rank) const { return totals_[rank]; }
  const std::string& hostname(Rank rank) const { return hostnames_[rank]; }
  int size() const { return static_cast<int>(totals_.size()); }

  /// One rank as this view sees it (for the placement-group controller and queries).
  struct RankSnapshot {
    Rank rank = kNoRank;
    bool alive = true;
    ResourceSet total;      // with the resources of placement-group bundles committed there
    ResourceSet available;  // its last report, less what this rank sent there since
    int64_t waiting = 0;
  };
  std::vector<RankSnapshot> Snapshot() const;

 private:
  struct RankState {
    bool alive = true;
    bool reported = false;
    ResourceReport report;       // last report (total/available start as the totals)
    ResourceSet sent_since;      // demand of my work sent after that report
    ResourceSet returned_since;  // demand of my earlier work that finished after it
    int64_t finished_since = 0;  // how many of those
    uint64_t epoch = 0;          // bumped by every report
    int64_t actors_placed = 0;   // actors I placed there
  };
  struct Scored {
    Rank rank;
    double score;
    bool room;
  };
  class Evaluator;
  // A large view is sampled: this many random ranks (plus this one and the arguments').
  static constexpr int kSampleRanks = 64;

  // Current estimate of `rank` (live for this rank): its last report, less what this owner sent
  // since, plus what this owner's earlier work gave back since (at most its total).
  ResourceReport EstimateLocked(Rank rank) const;
  int64_t AvailableLocked(Rank rank, const std::string& name) const;
  // Its queued work by its last report, less this owner's work that finished since.
  int64_t WaitingLocked(Rank rank) const;
  bool FeasibleLocked(const ResourceSet& demand, Rank rank) const;
  std::string MissingLocked(const ResourceSet& demand) const;

  Rank self_;
  std::vector<ResourceSet> totals_;
  std::vector<std::string> hostnames_;
  Options options_;
  std::function<ResourceReport()> local_;
  mutable std::mutex mu_;
  std::vector<RankState> state_;
  std::mt19937_64 random_;
  uint64_t spread_next_ = 0;
};

}  // namespace prism::runtime
