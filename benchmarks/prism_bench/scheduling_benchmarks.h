#pragma once
/// Scheduling under load (issue 5), run on the driver after prism::Init:
/// - scheduling_decisions_per_s: tasks submitted per second (each needs one scheduling decision
///   by the DEFAULT policy, which then scores the ranks) while every CPU of the job runs a
///   blocker task, so every rank is full and the tasks queue. Baseline, same run: the same
///   submissions with hard node affinity to one rank (a trivial decision); the ratio is the
///   cost of the DEFAULT decision on the submit path. ClusterView::Pick alone, on views of 8 to
///   4,096 ranks: prism_micro_bench --benchmark_filter=Pick.

#include "bench_options.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected scheduling measures and adds their records.
void RunSchedulingBenchmarks(const BenchOptions& options, ResultSet& results);

}  // namespace prism::bench
