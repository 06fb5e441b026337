#pragma once
/// Object measures, named after Ray's `ray microbenchmark` ones where Ray has one, run on the
/// driver after prism::Init:
/// - single_client_put_calls / single_client_get_calls: Put of an int / Get of a local int
///   object (ops/s);
/// - single_client_put_gigabytes: Put of a 64 MiB std::vector<double> (GB/s), against memcpy of
///   64 MiB;
/// - single_client_get_object_containing_10k_refs: Get of an object holding 10 000 references
///   to objects another rank put (ops/s);
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
