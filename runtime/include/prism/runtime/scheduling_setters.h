#pragma once
/// The scheduling options shared by prism::Task(...) and prism::Actor(...) (not used directly):
///
///   prism::Task(f).SetSchedulingStrategy(prism::SpreadSchedulingStrategy{}).Remote();
///   prism::Actor(Make).SetResource("CPU", 1).SetPlacementGroup(pg, 0).Remote();
///   prism::Task(f).SetAcceleratorType("H200").SetResource("GPU", 1).Remote();

#include <cstdint>
#include <string>

#include "prism/runtime/internal/core.h"
#include "prism/runtime/placement_group.h"
#include "prism/runtime/scheduling.h"

namespace prism::internal {

/// Mixed into a caller class `Self` with members `options_.scheduling` and `options_.resources`.
template <typename Self>
class SchedulingSetters {
 public:
  /// DEFAULT: hybrid pack/spread, data locality first (SCHED-03).
  Self& SetSchedulingStrategy(DefaultSchedulingStrategy) {
    Choose().kind = SchedulingOptions::kDefault;
    return self();
  }
  /// SPREAD: round-robin over the ranks that fit (SCHED-05).
  Self& SetSchedulingStrategy(SpreadSchedulingStrategy) {
    Choose().kind = SchedulingOptions::kSpread;
    return self();
  }
  /// On one node (a node id, "rank:<k>" or "host:<name>"), hard or soft (SCHED-07).
  Self& SetSchedulingStrategy(const NodeAffinitySchedulingStrategy& affinity) {
    SchedulingOptions& s = Choose();
    s.kind = SchedulingOptions::kNodeAffinity;
    s.node = affinity.node_id;
    s.soft = affinity.soft;
    return self();
  }
  /// Into bundle `bundle_index` (-1: any bundle) of `pg` (PG-08, PG-11). With
  /// `capture_child_tasks`, the tasks and actors it starts go into `pg` too unless they choose
  /// otherwise (PG-16). An Empty() group means "no group": it opts out of a parent's capture.
  Self& SetPlacementGroup(const PlacementGroup& pg, int bundle_index = -1,
                          bool capture_child_tasks = false) {
    SchedulingOptions& s = Choose();
    s.kind = SchedulingOptions::kPlacementGroup;
    s.placement_group = pg.id();
    s.bundle_index = bundle_index;
    s.capture_child_tasks = capture_child_tasks;
    return self();
  }
  /// Only on ranks with this accelerator type (RES-21): "accelerator_type:<type>" = 0.001.
  Self& SetAcceleratorType(const std::string& type) {
    self().options_.resources.emplace_back("accelerator_type:" + type, 0.001);
    return self();
  }
  /// Reserves `bytes` of the "memory" resource while it runs (RES-22); no usage limit.
  Self& SetMemory(int64_t bytes) {
    self().options_.resources.emplace_back("memory", static_cast<double>(bytes));
    return self();
  }

 private:
  Self& self() { return static_cast<Self&>(*this); }
  SchedulingOptions& Choose() {
    SchedulingOptions& s = self().options_.scheduling;
    s = SchedulingOptions{};
    s.chosen = true;
    return s;
  }
};

}  // namespace prism::internal
