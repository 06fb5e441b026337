#include "mpi_baselines.h"

#include <mpi.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "stopwatch.h"

namespace prism::bench {
namespace {

constexpr int kTag = 4242;

// Page-aligned, pre-touched message buffer (page faults would otherwise be measured).
struct AlignedBuffer {
  explicit AlignedBuffer(size_t bytes)
      : data(static_cast<std::byte*>(::operator new(bytes, std::align_val_t(4096)))), size(bytes) {
    std::memset(data, 1, size);
  }
  ~AlignedBuffer() { ::operator delete(data, std::align_val_t(4096)); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  std::byte* data;
  size_t size;
};

// One round trip: rank 0 sends then receives, rank 1 echoes.
void RoundTrip(int rank, std::byte* send, std::byte* receive, int bytes) {
  if (rank == 0) {
    MPI_Send(send, bytes, MPI_BYTE, 1, kTag, MPI_COMM_WORLD);
    MPI_Recv(receive, bytes, MPI_BYTE, 1, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  } else {
    MPI_Recv(receive, bytes, MPI_BYTE, 0, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Send(send, bytes, MPI_BYTE, 0, kTag, MPI_COMM_WORLD);
  }
}

Summary MeasureLatency(int rank, const BenchOptions& options) {
  const int warmup = options.Repetitions(2000, 20);
  const int iterations = options.Repetitions(20000, 200);
  std::byte send[8] = {};
  std::byte receive[8] = {};
  for (int i = 0; i < warmup; ++i) RoundTrip(rank, send, receive, 8);
  std::vector<double> half_round_trips_us;
  half_round_trips_us.reserve(static_cast<size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    Stopwatch watch;
    RoundTrip(rank, send, receive, 8);
    half_round_trips_us.push_back(watch.ElapsedMicros() / 2);
  }
  return Summarize(half_round_trips_us);
}

// Single round trips timed one by one: on a shared machine a preempted one is an outlier
// that the median ignores, where a long timed loop would absorb it. 200 at 1 MiB, 8 at 256 MiB,
// 5 from 1 GiB (a round trip there takes most of a second).
int RoundTripsFor(size_t bytes) {
  if (bytes >= (size_t{1} << 30)) return 5;
  return static_cast<int>(std::clamp<size_t>((size_t{200} << 20) / bytes, 8, 200));
}

Summary MeasureBandwidth(int rank, const BenchOptions& options, size_t bytes, AlignedBuffer& send,
                         AlignedBuffer& receive) {
  const int round_trips = options.Repetitions(RoundTripsFor(bytes), 1);
  const int count = static_cast<int>(bytes);
  // Warm-up (connection, registration caches); --quick times its one round trip cold.
  if (!options.quick()) RoundTrip(rank, send.data, receive.data, count);
  std::vector<double> rates_gbps;
  rates_gbps.reserve(static_cast<size_t>(round_trips));
  for (int r = 0; r < round_trips; ++r) {
    Stopwatch watch;
    RoundTrip(rank, send.data, receive.data, count);
    // A round trip moves the message once in each direction.
    rates_gbps.push_back(2.0 * static_cast<double>(bytes) / watch.ElapsedSeconds() / 1e9);
  }
  return Summarize(rates_gbps);
}

}  // namespace

MpiBaselines MeasureMpiBaselines(const BenchOptions& options, const MpiPlan& plan) {
  MpiBaselines out;
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (size < 2) return out;
  if (rank <= 1) {
    if (plan.latency) out.latency_8b_us = MeasureLatency(rank, options);
    if (!plan.bandwidth_sizes.empty()) {
      size_t largest = *std::max_element(plan.bandwidth_sizes.begin(), plan.bandwidth_sizes.end());
      AlignedBuffer send(largest);
      AlignedBuffer receive(largest);
      // Smallest first, whatever order the plan lists them in (main.cc appends the object
      // sizes after the transfer sizes), so that a filter does not change the order.
      std::vector<size_t> sizes = plan.bandwidth_sizes;
      std::sort(sizes.begin(), sizes.end());
      sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
      for (size_t bytes : sizes) {
        out.bandwidth_gbps[bytes] = MeasureBandwidth(rank, options, bytes, send, receive);
      }
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return out;
}

void AddMpiRecords(const MpiBaselines& mpi, const BenchOptions& options, ResultSet& results) {
  if (mpi.latency_8b_us && options.Selected("mpi_pingpong_latency_8B")) {
    results.Add(MakeRecord("mpi_pingpong_latency_8B", *mpi.latency_8b_us, "us"));
  }
  for (const auto& [bytes, summary] : mpi.bandwidth_gbps) {
    // Other sizes are baselines of the object bandwidth measures, which add their own records.
    if (std::find(kBandwidthSizes.begin(), kBandwidthSizes.end(), bytes) == kBandwidthSizes.end()) {
      continue;
    }
    std::string name = "mpi_bandwidth_" + SizeLabel(bytes);
    if (options.Selected(name)) results.Add(MakeRecord(name, summary, "GB/s"));
  }
}

void AddRoundTripRecord(const std::string& name, const std::string& what, bool cross_rank,
                        const MpiBaselines& mpi, const std::function<Summary()>& measure,
                        ResultSet& results) {
  if (!cross_rank) {
    results.AddNote(name + " skipped: needs a second rank to " + what);
    return;
  }
  Record r = MakeRecord(name, measure(), "us");
  if (mpi.latency_8b_us) {
    r.baseline_name = "mpi_roundtrip_8B";
    r.baseline_value = 2 * mpi.latency_8b_us->median;
  }
  results.Add(std::move(r));
}

}  // namespace prism::bench
