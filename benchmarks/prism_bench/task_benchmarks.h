#pragma once
/// Task measures, named after Ray's `ray microbenchmark` ones where Ray has one, run on the
/// driver after prism::Init:
/// - task_sync_roundtrip: `*prism::Task(Noop).Remote(i).Get()`, one call at a time (us);
/// - single_client_tasks_sync: the same calls as a rate (tasks/s);
/// - single_client_tasks_async: batches of 1000 Noop tasks, all submitted then all fetched
///   (tasks/s);
/// - task_async_throughput_100k: 100 000 tasks submitted, then one Get of all (tasks/s);
/// - multi_client_tasks_async: n caller tasks, each submitting 1000 Noop tasks and getting them
///   (tasks/s over all callers; n is 2 per rank that runs tasks);
/// - single_client_wait_1k_refs: 1000 tasks submitted, then prism::Wait for one at a time until
///   none is left, as Ray's (one op = the whole sequence; ops/s);
/// - many_tasks_1m_queued (+ _seconds): 1 000 000 Noop tasks submitted, then one Get of all.
/// With rank 0 given no CPUs (prism-bench's default), every task runs on another rank.

#include "bench_options.h"
#include "mpi_baselines.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected task measures and adds their records. `cross_rank` is false on a one-rank
/// job: task_sync_roundtrip is skipped with a note and the other measures run on rank 0.
void RunTaskBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                       ResultSet& results);

}  // namespace prism::bench
