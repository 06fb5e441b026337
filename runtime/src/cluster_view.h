#pragma once
// ClusterView: an owner's picture of where work can go — every rank's capacity (exchanged at
// start-up), liveness, and load (reported by executors with every result, plus this owner's own
// tasks sent since). Picks the least loaded feasible rank for a task; the controller is not on
// this path. Actors are placed the same way, counting the actors this owner placed as load.
//
// Thread contract: thread-safe.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "resources.h"

namespace prism::runtime {

class ClusterView {
 public:
  ClusterView(Rank self, std::vector<ResourceSet> capacity);

  /// The rank for a task needing `demand`: least (estimated load + 1) per CPU among live ranks
  /// whose capacity fits, this rank first on ties. kNoRank when no live rank fits; then
  /// `missing` names the resource no rank has enough of.
  /// With `for_actor`, the actors this owner placed on a rank count as load too, so that actors
  /// spread over the ranks. A live `preferred` rank (where the task's large arguments are) wins
  /// when it fits and its load per CPU is within one task of the best rank's (data locality,
  /// SCHED-08).
  Rank Pick(const ResourceSet& demand, std::string* missing, bool for_actor = false,
            Rank preferred = kNoRank);

  void OnSubmitted(Rank rank);
  void OnActorPlaced(Rank rank);
  /// A task finished on `rank`, which reported `load` (queued + running) at that moment.
  void OnFinished(Rank rank, int64_t load);
  void MarkDead(Rank rank);
  bool IsAlive(Rank rank) const;
  const ResourceSet& capacity(Rank rank) const { return capacity_[rank]; }
  int size() const { return static_cast<int>(capacity_.size()); }

 private:
  struct RankState {
    bool alive = true;
    int64_t mine_in_flight = 0;  // my tasks sent there and not finished
    int64_t reported_load = 0;   // its last report
    int64_t mine_at_report = 0;  // mine_in_flight when that report arrived
    int64_t actors_placed = 0;   // actors I placed there
  };
  int64_t EstimatedLoadLocked(const RankState& s) const;

  Rank self_;
  std::vector<ResourceSet> capacity_;
  mutable std::mutex mu_;
  std::vector<RankState> state_;
  uint64_t rotation_ = 0;
};

}  // namespace prism::runtime
