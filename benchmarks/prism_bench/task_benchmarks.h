#pragma once
/// Task measures, run on the driver after prism::Init:
/// - task_sync_roundtrip: `*prism::Task(Noop).Remote(i).Get()`, one call at a time (us);
/// - task_async_throughput: batches of 1000 Noop tasks, all submitted then all fetched (tasks/s);
/// - task_async_throughput_100k: 100 000 tasks submitted, then one Get of all (tasks/s).
/// With rank 0 given no CPUs (prism-bench's default), every task runs on another rank.

#include "bench_options.h"
#include "mpi_baselines.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected task measures and adds their records. `cross_rank` is false on a one-rank
/// job: task_sync_roundtrip is skipped with a note and the throughputs run on rank 0.
void RunTaskBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                       ResultSet& results);

}  // namespace prism::bench
