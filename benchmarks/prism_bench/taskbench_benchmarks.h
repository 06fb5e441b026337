#pragma once
/// Task Bench (Slaughter et al., SC'20) on Prism: task graphs of a calibrated busy-loop kernel,
/// swept over task grains (1 µs .. 10 ms) on all the CPUs of the ranks that run tasks, reporting
/// the efficiency at each grain and METG(50%) (see metg.h):
/// - taskbench_<pattern>_eff_<grain>us: useful compute / (wall time x CPUs), in %;
/// - metg_<pattern>_us: the granularity at which that efficiency crosses 50% (its note marks an
///   upper bound when every grain reached 50%, a lower bound when none did).
/// Patterns, as Task Bench defines them, `width` = CPUs of the task ranks:
/// - stencil (stencil_1d): every step has `width` tasks; task i depends on tasks i-1, i, i+1 of
///   the previous step (clamped at the edges);
/// - tree: step t has min(width, 2^t) tasks; task i depends on task i/2 of the previous step
///   (a fan-out that then runs at full width).
/// Dependencies pass as ObjectRef arguments; the whole graph is submitted, then the last step
/// fetched and checked against the same graph computed on the driver.

#include "bench_options.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected sweeps and adds their records. `task_cpus`: CPUs of all ranks that run
/// tasks (prism::ClusterResources), the graph's width and the cores efficiency is measured against.
void RunTaskBenchBenchmarks(const BenchOptions& options, double task_cpus, ResultSet& results);

}  // namespace prism::bench
