#pragma once
/// MPI baselines, measured before prism::Init so that Prism's threads do not disturb them:
/// ping-pong latency and bandwidth between ranks 0 and 1 (Open MPI's ob1/vader path here).
///
///   MpiPlan plan{.latency = true, .bandwidth_sizes = {1 << 20}};
///   MpiBaselines mpi = MeasureMpiBaselines(options, plan);   // on every rank (collective)
///   AddMpiRecords(mpi, options, results);                       // on rank 0

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench_options.h"
#include "record.h"
#include "stats.h"

namespace prism::bench {

/// Which MPI measures to run; the same on every rank.
struct MpiPlan {
  /// Measure the 8-byte ping-pong latency.
  bool latency = false;
  /// Message sizes (bytes) whose ping-pong bandwidth to measure.
  std::vector<size_t> bandwidth_sizes;
};

/// Results, valid on rank 0 (empty on one rank: there is no peer).
struct MpiBaselines {
  /// Half round trip of an 8-byte message, in microseconds (over single round trips).
  std::optional<Summary> latency_8b_us;
  /// Ping-pong bandwidth in GB/s (1e9 bytes/s), by message size in bytes.
  std::map<size_t, Summary> bandwidth_gbps;
};

/// Runs `plan` between ranks 0 and 1 of MPI_COMM_WORLD; the other ranks wait. Collective: call
/// on every rank, after MPI_Init and before prism::Init.
MpiBaselines MeasureMpiBaselines(const BenchOptions& options, const MpiPlan& plan);

/// Adds the selected MPI records (mpi_pingpong_latency_8B, mpi_bandwidth_<size> for the sizes of
/// kBandwidthSizes) to `results`; the other measured sizes are baselines of the object bandwidth
/// measures, which add their mpi_bandwidth_<size> records next to them.
void AddMpiRecords(const MpiBaselines& mpi, const BenchOptions& options, ResultSet& results);

/// Adds the round-trip record `name` (µs) with the MPI 8-byte round trip as its baseline, from
/// `measure`; with one rank only a note (`what` needs a second rank).
void AddRoundTripRecord(const std::string& name, const std::string& what, bool cross_rank,
                        const MpiBaselines& mpi, const std::function<Summary()>& measure,
                        ResultSet& results);

}  // namespace prism::bench
