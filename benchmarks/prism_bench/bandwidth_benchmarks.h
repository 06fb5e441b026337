#pragma once
/// Object bandwidth by size: what moving an object's bytes costs, run on the driver after
/// prism::Init, for 1 KiB, 64 KiB, 1 MiB, 64 MiB and 1 GiB (1 GiB only when memory allows and
/// not under --quick). A size an older record already measures the same way is not measured
/// twice: the 64 MiB Put is single_client_put_gigabytes, the 1 and 64 MiB pulls are
/// transfer_bandwidth_1MiB/_64MiB.
/// - put_gbps_<size>: prism::Put of a std::vector<double> of <size> (GB/s), against
///   memcpy_gbps_<size>, memcpy of the same size in the same run;
/// - get_local_gbps_<size> / get_local_us_<size>: prism::GetSpan of an object on the driver's
///   own rank (zero-copy, so its time does not grow with the size): <size> / time (GB/s)
///   against memcpy_gbps_<size>, and the time per call (us) against get_local_us_1KiB;
/// - mpi_bandwidth_<size> and get_remote_gbps_<size> (1 KiB, 64 KiB, 1 GiB): GetSpan of an
///   object that a task Put on another rank (a pull across ranks), against the MPI ping-pong;
/// - large_arg_by_value_ms / large_arg_put_once_ms / large_arg_put_once_speedup: 50 tasks (10
///   under --quick) that each take the same 10 MiB vector, passed by value (Prism puts it once
///   per call) versus Put once and passed as its ObjectRef (the seed's anti-pattern PAT-07 /
///   OBJ-14).
///
///   ObjectSizePlan sizes = PlanObjectSizes(options);   // every rank, before prism::Init
///   mpi_plan.bandwidth_sizes += sizes.mpi_sizes;        // the MPI baselines get_remote needs
///   ...
///   RunBandwidthBenchmarks(options, mpi, sizes, cross_rank, results);   // the driver

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "bench_options.h"
#include "mpi_baselines.h"
#include "record.h"

namespace prism::bench {

inline constexpr size_t kKiB = size_t{1} << 10;
inline constexpr size_t kMiB = size_t{1} << 20;
inline constexpr size_t kGiB = size_t{1} << 30;

/// Sizes of the put/get measures, in bytes.
inline constexpr std::array<size_t, 5> kObjectSizes = {kKiB, 64 * kKiB, kMiB, 64 * kMiB, kGiB};

/// Which object sizes a run measures; the same on every rank.
struct ObjectSizePlan {
  /// kObjectSizes without 1 GiB when --quick or when the machine lacks the memory.
  std::vector<size_t> sizes;
  /// Sizes whose MPI ping-pong bandwidth the selected get_remote records need as baselines.
  std::vector<size_t> mpi_sizes;
  /// Why 1 GiB is left out, when it is (empty otherwise).
  std::string skipped_reason;
};

/// Decides the sizes from the options and the least MemAvailable over the ranks. Collective
/// over MPI_COMM_WORLD: call on every rank after MPI_Init and before prism::Init.
ObjectSizePlan PlanObjectSizes(const BenchOptions& options);

/// The names of these measures, in the order they run (for --list).
std::vector<std::string> BandwidthMeasureNames();

/// Runs the selected measures and adds their records. `cross_rank` is false on a one-rank job:
/// the pulls are skipped with a note, and the large-argument tasks run on rank 0.
void RunBandwidthBenchmarks(const BenchOptions& options, const MpiBaselines& mpi,
                            const ObjectSizePlan& plan, bool cross_rank, ResultSet& results);

}  // namespace prism::bench
