#pragma once
/// Collective benchmarks: Prism's UCX-backend AllReduce (8 B .. 256 MiB), Broadcast and AllGather
/// (64 MiB) against MPI_Allreduce / MPI_Bcast / MPI_Allgather over the same ranks in the same run.
///
///   MeasureMpiCollectives(options);                        // every rank, before prism::Init
///   RunCollectiveBenchmarks(options, world_size, results); // rank 0, after prism::Init
///
/// The Prism group has one member per rank: the driver is member 0 and one actor on each other
/// rank is member r. Each repetition is a group barrier followed by the timed operation on member
/// 0 (MPI: MPI_Barrier, then the timed call on rank 0); a Broadcast (member 0 is its root, which
/// may return before the others have the data) is timed together with a barrier after it, on
/// both sides. Values are medians in microseconds.

#include <string>
#include <vector>

#include "bench_options.h"
#include "record.h"

namespace prism::bench {

/// allreduce_<size>, broadcast_64MiB, allgather_64MiB.
const std::vector<std::string>& CollectiveMeasureNames();

/// Measures the selected MPI baselines (collective over MPI_COMM_WORLD; call on every rank after
/// MPI_Init and before prism::Init). Kept for RunCollectiveBenchmarks.
void MeasureMpiCollectives(const BenchOptions& options);

/// Measures Prism's collectives on rank 0 and adds the records (a note with one rank).
void RunCollectiveBenchmarks(const BenchOptions& options, int world_size, ResultSet& results);

}  // namespace prism::bench
