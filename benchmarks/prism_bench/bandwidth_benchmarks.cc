#include "bandwidth_benchmarks.h"

#include <mpi.h>
#include <prism/prism.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "stopwatch.h"

namespace prism::bench {

/// `copies` objects put by the task's own rank, each a vector of `count` doubles: objects made
/// on another rank, for the driver to pull (the driver borrows the references).
std::vector<prism::ObjectRef<std::vector<double>>> PutVectors(int64_t count, int copies) {
  std::vector<double> value(static_cast<size_t>(count), 3.0);
  std::vector<prism::ObjectRef<std::vector<double>>> refs;
  refs.reserve(static_cast<size_t>(copies));
  for (int i = 0; i < copies; ++i) refs.push_back(prism::Put(value));
  return refs;
}

/// A task that takes a large argument and does next to nothing with it, as the seed's
/// anti-pattern example: its cost is getting the argument.
double LastElement(const std::vector<double>& values) {
  return values.empty() ? 0.0 : values.back();
}

PRISM_REMOTE(PutVectors, LastElement);

namespace {

// The memory the 1 GiB sizes need on one host: two 1 GiB MPI buffers on each of ranks 0 and 1,
// then, one after the other, a source and its stored copy, or a remote vector, its stored copy
// and the pulled one, plus what the buffer pools keep.
constexpr uint64_t kGiBSizesNeedBytes = uint64_t{8} << 30;

// The anti-pattern's argument and task count (the seed's example passes one large array to
// many tasks); --quick runs fewer tasks, since by value each one moves the argument again.
constexpr size_t kLargeArgBytes = 10 * kMiB;
constexpr int kLargeArgTasks = 50;
constexpr int kLargeArgTasksQuick = 10;

// Sizes older records already measure the same way: the 64 MiB Put is
// single_client_put_gigabytes, the 1 and 64 MiB pulls (and their MPI baselines) are
// transfer_bandwidth_* (and mpi_bandwidth_*, added by AddMpiRecords).
bool PutMeasuredElsewhere(size_t bytes) { return bytes == 64 * kMiB; }
bool PullMeasuredElsewhere(size_t bytes) { return bytes == kMiB || bytes == 64 * kMiB; }

double GigabytesPerSecond(size_t bytes, double seconds) {
  return static_cast<double>(bytes) / seconds / 1e9;
}

// Objects (or memcpy's) per timed batch: one timed call of a 1 KiB Put would mostly time the
// clock, so small sizes are timed in batches of up to 16 MiB, each object in its own buffer.
int BatchFor(size_t bytes) {
  return static_cast<int>(std::clamp<size_t>((16 * kMiB) / bytes, 1, 1000));
}

// Timed samples per size.
int SamplesFor(const BenchOptions& options, size_t bytes) {
  return options.Repetitions(bytes >= kGiB ? 5 : 41, 2);
}

// MemAvailable of /proc/meminfo in bytes; 0 when it cannot be read.
uint64_t MemAvailableBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

std::vector<double> MakeSource(size_t bytes, double fill) {
  return std::vector<double>(bytes / sizeof(double), fill);
}

// memcpy of `bytes` from one pre-touched source into BatchFor(bytes) distinct pre-touched
// destinations per sample (as a batch of Puts writes distinct buffers): the bound for a Put,
// which copies once.
Summary MeasureMemcpy(const BenchOptions& options, size_t bytes) {
  const int batch = BatchFor(bytes);
  std::vector<std::byte> from(bytes, std::byte{5});
  std::vector<std::byte> to(bytes * static_cast<size_t>(batch), std::byte{0});
  std::vector<double> rates;
  const int samples = SamplesFor(options, bytes);
  for (int r = -1; r < samples; ++r) {  // r == -1: warm-up
    Stopwatch watch;
    for (int i = 0; i < batch; ++i) {
      std::memcpy(to.data() + static_cast<size_t>(i) * bytes, from.data(), bytes);
    }
    double seconds = watch.ElapsedSeconds();
    if (r >= 0) rates.push_back(GigabytesPerSecond(bytes * static_cast<size_t>(batch), seconds));
  }
  if (to.back() != std::byte{5}) throw std::runtime_error("memcpy baseline: wrong bytes");
  return Summarize(rates);
}

// Put of a batch of vectors of `bytes` (references kept until the batch is timed, then freed).
Summary MeasurePut(const BenchOptions& options, size_t bytes) {
  const int batch = BatchFor(bytes);
  const std::vector<double> value = MakeSource(bytes, 2.0);
  std::vector<prism::ObjectRef<std::vector<double>>> refs;
  refs.reserve(static_cast<size_t>(batch));
  std::vector<double> rates;
  const int samples = SamplesFor(options, bytes);
  for (int r = -1; r < samples; ++r) {
    Stopwatch watch;
    for (int i = 0; i < batch; ++i) refs.push_back(prism::Put(value));
    double seconds = watch.ElapsedSeconds();
    if (r >= 0) rates.push_back(GigabytesPerSecond(bytes * static_cast<size_t>(batch), seconds));
    if (r == samples - 1) {
      prism::SharedSpan<const double> last = prism::GetSpan(refs.back());
      if (last.size() != value.size() || last[last.size() - 1] != 2.0) {
        throw std::runtime_error("put_gbps: wrong object contents");
      }
    }
    refs.clear();  // frees the objects, outside the timed section
  }
  return Summarize(rates);
}

// Microseconds per GetSpan of one object of `bytes` on this rank, over batches of calls.
Summary MeasureGetLocalMicros(const BenchOptions& options, size_t bytes) {
  const int calls = options.Repetitions(1000, 200);
  prism::ObjectRef<std::vector<double>> ref = prism::Put(MakeSource(bytes, 4.0));
  const size_t count = bytes / sizeof(double);
  size_t seen = 0;
  std::vector<double> micros;
  const int samples = options.Repetitions(41, 2);
  for (int r = -1; r < samples; ++r) {
    Stopwatch watch;
    for (int i = 0; i < calls; ++i) seen += prism::GetSpan(ref).size();
    double elapsed_us = watch.ElapsedMicros();
    if (r >= 0) micros.push_back(elapsed_us / calls);
  }
  prism::SharedSpan<const double> span = prism::GetSpan(ref);
  if (seen != count * static_cast<size_t>(calls) * static_cast<size_t>(samples + 1) ||
      span[count - 1] != 4.0) {
    throw std::runtime_error("get_local: wrong object contents");
  }
  return Summarize(micros);
}

// GB/s that a time per call of `us` microseconds means for an object of `bytes` (the order
// reverses: the p10 of the time gives the p90 of the rate).
Summary RateFromMicros(const Summary& us, size_t bytes) {
  Summary rate;
  rate.count = us.count;
  rate.median = GigabytesPerSecond(bytes, us.median * 1e-6);
  rate.p10 = GigabytesPerSecond(bytes, us.p90 * 1e-6);
  rate.p90 = GigabytesPerSecond(bytes, us.p10 * 1e-6);
  return rate;
}

// Pulls of objects of `bytes` that a task Put on another rank: each GetSpan of a borrowed
// reference timed on its own (at most 64 MiB of objects per task; the first pull of a run is
// a warm-up that fills both buffer pools, except under --quick).
Summary MeasureGetRemote(const BenchOptions& options, size_t bytes) {
  const auto count = static_cast<int64_t>(bytes / sizeof(double));
  const int per_task = static_cast<int>(std::clamp<size_t>((64 * kMiB) / bytes, 1, 64));
  const int samples = SamplesFor(options, bytes);
  int warmup = options.quick() ? 0 : 1;
  std::vector<double> rates;
  while (static_cast<int>(rates.size()) < samples) {
    prism::ObjectRef<std::vector<prism::ObjectRef<std::vector<double>>>> made =
        prism::Task(PutVectors).Remote(count, per_task);
    std::shared_ptr<std::vector<prism::ObjectRef<std::vector<double>>>> refs = made.Get();
    for (const prism::ObjectRef<std::vector<double>>& ref : *refs) {
      Stopwatch watch;
      prism::SharedSpan<const double> span = prism::GetSpan(ref);
      double seconds = watch.ElapsedSeconds();
      if (span.size() != static_cast<size_t>(count) || span[span.size() - 1] != 3.0) {
        throw std::runtime_error("get_remote: wrong object contents");
      }
      if (warmup > 0) {
        --warmup;
      } else if (static_cast<int>(rates.size()) < samples) {
        rates.push_back(GigabytesPerSecond(bytes, seconds));
      }
    }
  }
  return Summarize(rates);
}

// Milliseconds of one anti-pattern run: `tasks` tasks given `arg` by value (each call
// serializes it and puts it once more), or given `ref` (put once), submitted, then all fetched.
double LargeArgMillis(const std::vector<double>& arg, int tasks, bool put_once) {
  Stopwatch watch;
  std::optional<prism::ObjectRef<std::vector<double>>> ref;
  if (put_once) ref = prism::Put(arg);
  std::vector<prism::ObjectRef<double>> results;
  results.reserve(static_cast<size_t>(tasks));
  for (int i = 0; i < tasks; ++i) {
    results.push_back(put_once ? prism::Task(LastElement).Remote(*ref)
                               : prism::Task(LastElement).Remote(arg));
  }
  double sum = 0;
  for (const std::shared_ptr<double>& value : prism::Get(results)) sum += *value;
  double millis = watch.ElapsedSeconds() * 1e3;
  if (sum != arg.back() * tasks) throw std::runtime_error("large_arg: wrong results");
  return millis;
}

struct LargeArgResult {
  Summary by_value_ms;
  Summary put_once_ms;
  Summary speedup;
};

// Pairs of runs (by value, then put once), after one warm-up pair; the speedup is taken per
// pair, so that a slow moment of the machine weighs on both halves of a ratio.
LargeArgResult MeasureLargeArg(const BenchOptions& options) {
  const std::vector<double> arg = MakeSource(kLargeArgBytes, 6.0);
  std::vector<double> by_value;
  std::vector<double> put_once;
  std::vector<double> speedups;
  const int tasks = options.Repetitions(kLargeArgTasks, kLargeArgTasksQuick);
  const int pairs = options.Repetitions(5, 1);
  for (int r = options.quick() ? 0 : -1; r < pairs; ++r) {
    double value_ms = LargeArgMillis(arg, tasks, /*put_once=*/false);
    double once_ms = LargeArgMillis(arg, tasks, /*put_once=*/true);
    if (r < 0) continue;
    by_value.push_back(value_ms);
    put_once.push_back(once_ms);
    speedups.push_back(value_ms / once_ms);
  }
  return {Summarize(by_value), Summarize(put_once), Summarize(speedups)};
}

void AddSizeRecords(const BenchOptions& options, const MpiBaselines& mpi, size_t bytes,
                    bool cross_rank, std::optional<double>& get_local_us_1kib, ResultSet& results) {
  const std::string label = SizeLabel(bytes);
  const std::string put_name = "put_gbps_" + label;
  const std::string gbps_name = "get_local_gbps_" + label;
  const std::string us_name = "get_local_us_" + label;
  const std::string remote_name = "get_remote_gbps_" + label;
  const bool put = !PutMeasuredElsewhere(bytes) && options.Selected(put_name);
  const bool remote = !PullMeasuredElsewhere(bytes) && options.Selected(remote_name);
  const bool get_local = options.Selected(gbps_name) || options.Selected(us_name);

  std::optional<double> memcpy_gbps;
  if (put || options.Selected(gbps_name)) memcpy_gbps = MeasureMemcpy(options, bytes).median;
  const std::string memcpy_name = "memcpy_gbps_" + label;
  if (put) {
    Record r = MakeRecord(put_name, MeasurePut(options, bytes), "GB/s");
    r.baseline_name = memcpy_name;
    r.baseline_value = memcpy_gbps;
    results.Add(std::move(r));
  }
  if (get_local) {
    Summary us = MeasureGetLocalMicros(options, bytes);
    if (options.Selected(gbps_name)) {
      Record r = MakeRecord(gbps_name, RateFromMicros(us, bytes), "GB/s");
      r.baseline_name = memcpy_name;
      r.baseline_value = memcpy_gbps;
      r.note = "zero-copy: a view of the stored object, no byte moves; GB/s = size / time";
      results.Add(std::move(r));
    }
    if (options.Selected(us_name)) {
      Record r = MakeRecord(us_name, us, "us");
      if (bytes == kKiB) {
        get_local_us_1kib = us.median;
      } else if (get_local_us_1kib) {
        r.baseline_name = "get_local_us_1KiB";
        r.baseline_value = get_local_us_1kib;
      }
      results.Add(std::move(r));
    }
  }
  if (PullMeasuredElsewhere(bytes)) return;
  const std::string mpi_name = "mpi_bandwidth_" + label;
  auto mpi_it = mpi.bandwidth_gbps.find(bytes);
  if (mpi_it != mpi.bandwidth_gbps.end() && options.Selected(mpi_name)) {
    results.Add(MakeRecord(mpi_name, mpi_it->second, "GB/s"));
  }
  if (remote) {
    if (!cross_rank) {
      results.AddNote(remote_name + " skipped: needs a second rank to hold the object");
      return;
    }
    Record r = MakeRecord(remote_name, MeasureGetRemote(options, bytes), "GB/s");
    if (mpi_it != mpi.bandwidth_gbps.end()) {
      r.baseline_name = mpi_name;
      r.baseline_value = mpi_it->second.median;
    }
    results.Add(std::move(r));
  }
}

}  // namespace

ObjectSizePlan PlanObjectSizes(const BenchOptions& options) {
  ObjectSizePlan plan;
  // Every rank takes part, so that all reach the same decision (the MPI plan depends on it).
  uint64_t available = MemAvailableBytes();
  uint64_t least = 0;
  MPI_Allreduce(&available, &least, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
  for (size_t bytes : kObjectSizes) {
    const std::string label = SizeLabel(bytes);
    const bool selected =
        options.Selected("put_gbps_" + label) || options.Selected("get_local_gbps_" + label) ||
        options.Selected("get_local_us_" + label) || options.Selected("get_remote_gbps_" + label) ||
        options.Selected("mpi_bandwidth_" + label);
    if (!selected) continue;
    if (bytes >= kGiB) {
      if (options.quick()) {
        plan.skipped_reason = "--quick";
        continue;
      }
      if (least < kGiBSizesNeedBytes) {
        plan.skipped_reason = "MemAvailable is " + std::to_string(least >> 20) + " MiB on some " +
                              "rank, under the " + std::to_string(kGiBSizesNeedBytes >> 20) +
                              " MiB they need";
        continue;
      }
    }
    plan.sizes.push_back(bytes);
    // The pulls of 1 and 64 MiB are transfer_bandwidth_*, whose MPI sizes main.cc plans.
    if (!PullMeasuredElsewhere(bytes) && (options.Selected("get_remote_gbps_" + label) ||
                                          options.Selected("mpi_bandwidth_" + label))) {
      plan.mpi_sizes.push_back(bytes);
    }
  }
  return plan;
}

std::vector<std::string> BandwidthMeasureNames() {
  std::vector<std::string> names;
  for (size_t bytes : kObjectSizes) {
    std::string label = SizeLabel(bytes);
    if (!PutMeasuredElsewhere(bytes)) names.push_back("put_gbps_" + label);
    names.push_back("get_local_gbps_" + label);
    names.push_back("get_local_us_" + label);
    if (!PullMeasuredElsewhere(bytes)) {
      names.push_back("mpi_bandwidth_" + label);
      names.push_back("get_remote_gbps_" + label);
    }
  }
  for (const char* name :
       {"large_arg_by_value_ms", "large_arg_put_once_ms", "large_arg_put_once_speedup"}) {
    names.emplace_back(name);
  }
  return names;
}

void RunBandwidthBenchmarks(const BenchOptions& options, const MpiBaselines& mpi,
                            const ObjectSizePlan& plan, bool cross_rank, ResultSet& results) {
  std::optional<double> get_local_us_1kib;
  for (size_t bytes : plan.sizes) {
    AddSizeRecords(options, mpi, bytes, cross_rank, get_local_us_1kib, results);
  }
  if (!plan.skipped_reason.empty()) {
    results.AddNote("1 GiB object measures skipped: " + plan.skipped_reason);
  }
  const bool by_value = options.Selected("large_arg_by_value_ms");
  const bool put_once = options.Selected("large_arg_put_once_ms");
  const bool speedup = options.Selected("large_arg_put_once_speedup");
  if (!by_value && !put_once && !speedup) return;
  LargeArgResult large = MeasureLargeArg(options);
  const std::string where =
      cross_rank ? "" : "one rank: the tasks run on the driver's rank, no argument is pulled";
  if (by_value) {
    Record r = MakeRecord("large_arg_by_value_ms", large.by_value_ms, "ms");
    r.note = where;
    results.Add(std::move(r));
  }
  if (put_once) {
    Record r = MakeRecord("large_arg_put_once_ms", large.put_once_ms, "ms");
    r.baseline_name = "large_arg_by_value_ms";
    r.baseline_value = large.by_value_ms.median;
    r.note = where;
    results.Add(std::move(r));
  }
  if (speedup) {
    Record r = MakeRecord("large_arg_put_once_speedup", large.speedup, "x");
    r.note = where;
    results.Add(std::move(r));
  }
}

}  // namespace prism::bench
