#pragma once
/// Placement-group measures, run on the driver after prism::Init (each group is one bundle; with
/// prism-bench's default head_cpus=0 it lands on another rank, so every reservation crosses
/// ranks: request to the controller, Prepare, Commit, and Return):
/// - placement_group_create_removal: Ray's ray_perf.py measure (benchmarks/compare/ray_bench.py):
///   100 groups of {CPU: 0.001} (Ray's {custom: 0.001}) created, each waited for, then all
///   removed (groups/s);
/// - pg_create_remove_per_s: one {CPU: 1} group at a time — CreatePlacementGroup, Wait, Remove —
///   over 200 iterations (groups/s), the latency-bound rate.
/// Ray publishes 765 create+remove per second (ANCHORS.md); neither has a baseline measured in
/// the same run (benchmarks/README.md has Ray's figure on this machine).

#include "bench_options.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected placement-group measures and adds their records.
void RunPlacementGroupBenchmarks(const BenchOptions& options, ResultSet& results);

}  // namespace prism::bench
