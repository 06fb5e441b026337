#pragma once
/// Object measures, run on the driver after prism::Init:
/// - put_small_rate / get_small_rate: Put of an int / Get of a local int object (ops/s);
/// - put_gigabytes: Put of a 64 MiB std::vector<double> (GB/s), against memcpy of 64 MiB;
/// - transfer_bandwidth_<size>: GetSpan of a vector<double> that a task left in another rank's
///   store, timing only the pull into the local store (GB/s), against MPI ping-pong bandwidth.

#include "bench_options.h"
#include "mpi_baselines.h"
#include "record.h"

namespace prism::bench {

/// Runs the selected object measures and adds their records. `cross_rank` is false on a
/// one-rank job: the transfers are skipped with a note.
void RunObjectBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                         ResultSet& results);

}  // namespace prism::bench
