#include "object_benchmarks.h"

#include <prism/prism.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "rate.h"
#include "stopwatch.h"

namespace prism::bench {

/// A task result of `count` doubles: large results stay in the store of the rank that ran it.
std::vector<double> MakeVector(int64_t count) {
  return std::vector<double>(static_cast<size_t>(count), 1.0);
}

/// An object holding `count` references to int objects put by the task's own rank, as Ray's
/// `create_object_containing_ref` (the references are borrowed by whoever gets the object).
std::vector<prism::ObjectRef<int>> MakeRefs(int count) {
  std::vector<prism::ObjectRef<int>> refs;
  refs.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) refs.push_back(prism::Put(1));
  return refs;
}

PRISM_REMOTE(MakeVector, MakeRefs);

namespace {

constexpr size_t kPutBytes = size_t{64} << 20;
// References in the object of single_client_get_object_containing_10k_refs.
constexpr int kContainedRefs = 10000;

double GigabytesPerSecond(size_t bytes, double seconds) {
  return static_cast<double>(bytes) / seconds / 1e9;
}

Summary MeasurePutSmall(const BenchOptions& options) {
  const int puts = options.Repetitions(2000, 500);
  std::vector<prism::ObjectRef<int>> refs;
  refs.reserve(static_cast<size_t>(puts));
  std::vector<double> rates;
  const int repetitions = options.Repetitions(41, 2);
  for (int r = -1; r < repetitions; ++r) {  // r == -1: warm-up
    Stopwatch watch;
    for (int i = 0; i < puts; ++i) refs.push_back(prism::Put(i));
    double seconds = watch.ElapsedSeconds();
    refs.clear();  // frees the objects, outside the timed section
    if (r >= 0) rates.push_back(puts / seconds);
  }
  return Summarize(rates);
}

Summary MeasureGetSmall(const BenchOptions& options) {
  const int gets = options.Repetitions(2000, 500);
  prism::ObjectRef<int> ref = prism::Put(42);
  std::vector<double> rates;
  const int repetitions = options.Repetitions(41, 2);
  int64_t sum = 0;
  for (int r = -1; r < repetitions; ++r) {
    Stopwatch watch;
    for (int i = 0; i < gets; ++i) sum += *ref.Get();
    double seconds = watch.ElapsedSeconds();
    if (r >= 0) rates.push_back(gets / seconds);
  }
  if (sum != int64_t{42} * gets * (repetitions + 1)) {
    throw std::runtime_error("single_client_get_calls: wrong value");
  }
  return Summarize(rates);
}

Summary MeasurePutLarge(const BenchOptions& options) {
  std::vector<double> value(kPutBytes / sizeof(double), 2.0);
  std::vector<double> rates;
  const int repetitions = options.Repetitions(21, 2);
  for (int r = -1; r < repetitions; ++r) {
    Stopwatch watch;
    prism::ObjectRef<std::vector<double>> ref = prism::Put(value);
    double seconds = watch.ElapsedSeconds();
    if (r >= 0) rates.push_back(GigabytesPerSecond(kPutBytes, seconds));
  }
  return Summarize(rates);
}

// Gets per second of one object holding kContainedRefs references (each Get deserializes them
// all, and dropping the result releases them), as Ray's get_containing_object_ref.
Summary MeasureGetContainingRefs(const BenchOptions& options) {
  prism::ObjectRef<std::vector<prism::ObjectRef<int>>> holder =
      prism::Task(MakeRefs).Remote(kContainedRefs);
  size_t seen = 0;
  Summary rate =
      MeasureRate(1, 1, options.Repetitions(21, 2), [&] { seen += holder.Get()->size(); });
  std::shared_ptr<std::vector<prism::ObjectRef<int>>> refs = holder.Get();
  int64_t sum = 0;
  for (const std::shared_ptr<int>& value : prism::Get(*refs)) sum += *value;
  if (sum != kContainedRefs || seen != kContainedRefs * (rate.count + 1)) {
    throw std::runtime_error("single_client_get_object_containing_10k_refs: wrong contents");
  }
  return rate;
}

// memcpy between two pre-touched buffers of the Put's size: the bound for a Put, which copies.
Summary MeasureMemcpy(const BenchOptions& options) {
  auto deleter = [](std::byte* p) { ::operator delete(p, std::align_val_t(4096)); };
  auto allocate = [&] {
    std::unique_ptr<std::byte, decltype(deleter)> p(
        static_cast<std::byte*>(::operator new(kPutBytes, std::align_val_t(4096))), deleter);
    std::memset(p.get(), 3, kPutBytes);
    return p;
  };
  auto from = allocate();
  auto to = allocate();
  std::vector<double> rates;
  const int repetitions = options.Repetitions(21, 2);
  for (int r = -1; r < repetitions; ++r) {
    Stopwatch watch;
    std::memcpy(to.get(), from.get(), kPutBytes);
    double seconds = watch.ElapsedSeconds();
    if (r >= 0) rates.push_back(GigabytesPerSecond(kPutBytes, seconds));
  }
  if (to.get()[kPutBytes - 1] != std::byte{3}) throw std::runtime_error("memcpy baseline failed");
  return Summarize(rates);
}

// One pull: a task on another rank makes the vector, Wait sees it ready (without fetching it),
// then only GetSpan, the pull into the local store, is timed.
double TransferRate(size_t bytes) {
  const auto count = static_cast<int64_t>(bytes / sizeof(double));
  prism::ObjectRef<std::vector<double>> ref = prism::Task(MakeVector).Remote(count);
  prism::Wait(std::vector{ref}, 1, -1);
  Stopwatch watch;
  prism::SharedSpan<const double> span = prism::GetSpan(ref);
  double seconds = watch.ElapsedSeconds();
  if (span.size() != static_cast<size_t>(count) || span[span.size() - 1] != 1.0) {
    throw std::runtime_error("transfer: wrong object contents");
  }
  return GigabytesPerSecond(bytes, seconds);
}

// Pulls per size, each timed on its own: 41 at 1 MiB down to 7 at 256 MiB (each needs a task
// to fill a new vector on the other rank first).
int PullsFor(size_t bytes) {
  constexpr size_t kMiB = size_t{1} << 20;
  if (bytes >= 256 * kMiB) return 7;
  if (bytes >= 64 * kMiB) return 9;
  if (bytes >= 16 * kMiB) return 21;
  return 41;
}

Summary MeasureTransfer(const BenchOptions& options, size_t bytes) {
  const int repetitions = options.Repetitions(PullsFor(bytes), 1);
  // The warm-up fills the buffer pools of both ranks for this size class.
  if (!options.quick()) TransferRate(bytes);
  std::vector<double> rates;
  for (int r = 0; r < repetitions; ++r) rates.push_back(TransferRate(bytes));
  return Summarize(rates);
}

}  // namespace

void RunObjectBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                         ResultSet& results) {
  if (options.Selected("single_client_put_calls")) {
    results.Add(MakeRecord("single_client_put_calls", MeasurePutSmall(options), "ops/s"));
  }
  if (options.Selected("single_client_get_calls")) {
    results.Add(MakeRecord("single_client_get_calls", MeasureGetSmall(options), "ops/s"));
  }
  if (options.Selected("single_client_put_gigabytes")) {
    Record r = MakeRecord("single_client_put_gigabytes", MeasurePutLarge(options), "GB/s");
    r.baseline_name = "memcpy_64MiB";
    r.baseline_value = MeasureMemcpy(options).median;
    results.Add(std::move(r));
  }
  if (options.Selected("single_client_get_object_containing_10k_refs")) {
    Record r = MakeRecord("single_client_get_object_containing_10k_refs",
                          MeasureGetContainingRefs(options), "ops/s");
    if (!cross_rank) r.note = "one rank: the references are owned by the driver's own rank";
    results.Add(std::move(r));
  }
  for (size_t bytes : kBandwidthSizes) {
    std::string name = "transfer_bandwidth_" + SizeLabel(bytes);
    if (!options.Selected(name)) continue;
    if (!cross_rank) {
      results.AddNote(name + " skipped: needs a second rank to hold the object");
      continue;
    }
    Record r = MakeRecord(name, MeasureTransfer(options, bytes), "GB/s");
    if (auto it = mpi.bandwidth_gbps.find(bytes); it != mpi.bandwidth_gbps.end()) {
      r.baseline_name = "mpi_bandwidth_" + SizeLabel(bytes);
      r.baseline_value = it->second.median;
    }
    results.Add(std::move(r));
  }
}

}  // namespace prism::bench
