#pragma once
/// Actor measures, named after Ray's `ray microbenchmark` ones, run on the driver after
/// prism::Init (an actor needs a CPU to be placed, so with rank 0 given no CPUs, prism-bench's
/// default, every actor and caller task lives on another rank):
/// - 1_1_actor_calls_sync: `*actor.Task(&BenchActor::Echo).Remote(i).Get()`, one call at a
///   time (us);
/// - 1_1_actor_calls_async: batches of 1000 calls to one actor, all submitted, then one Get of
///   all (calls/s);
/// - 1_1_actor_calls_concurrent: the same on a threaded actor (max_concurrency 16);
/// - 1_n_actor_calls_async: the driver calls n actors, 1000 calls each per batch (calls/s);
/// - n_n_actor_calls_async: n caller tasks, each making 1000 calls to its own actor (calls/s);
/// - actor_creations: batches of 100 actors created, each called once (actors/s);
/// - many_actors_10k: 10 000 actors created, each called once, then all killed (actors/s).
/// n is 2 per rank that runs tasks.

#include "bench_options.h"
#include "mpi_baselines.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected actor measures and adds their records. `cross_rank` is false on a one-rank
/// job: 1_1_actor_calls_sync is skipped with a note and the others run on rank 0.
void RunActorBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                        ResultSet& results);

}  // namespace prism::bench
