#include "task_benchmarks.h"

#include <prism/prism.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "stopwatch.h"

namespace prism::bench {

/// The cheapest task: its cost is all Prism's (submit, schedule, run, return, resolve).
int Noop(int x) { return x; }

PRISM_REMOTE(Noop);

namespace {

Summary MeasureSyncRoundTrip(const BenchOptions& options) {
  const int warmup = options.Repetitions(500, 20);
  const int calls = options.Repetitions(20000, 200);
  int64_t checksum = 0;
  for (int i = 0; i < warmup; ++i) checksum += *prism::Task(Noop).Remote(i).Get();
  std::vector<double> round_trips_us;
  round_trips_us.reserve(static_cast<size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    Stopwatch watch;
    checksum += *prism::Task(Noop).Remote(i).Get();
    round_trips_us.push_back(watch.ElapsedMicros());
  }
  const int64_t expected = int64_t{warmup} * (warmup - 1) / 2 + int64_t{calls} * (calls - 1) / 2;
  if (checksum != expected) throw std::runtime_error("task_sync_roundtrip: wrong task results");
  return Summarize(round_trips_us);
}

// Tasks per second of one batch: submit `batch` tasks, then Get all of them.
double BatchRate(int batch) {
  std::vector<prism::ObjectRef<int>> refs;
  refs.reserve(static_cast<size_t>(batch));
  Stopwatch watch;
  for (int i = 0; i < batch; ++i) refs.push_back(prism::Task(Noop).Remote(i));
  std::vector<std::shared_ptr<int>> values = prism::Get(refs);
  double seconds = watch.ElapsedSeconds();
  for (int i = 0; i < batch; ++i) {
    if (*values[static_cast<size_t>(i)] != i) throw std::runtime_error("task batch: wrong result");
  }
  return batch / seconds;
}

Summary MeasureBatches(int batch, int warmup, int repetitions) {
  for (int i = 0; i < warmup; ++i) BatchRate(batch);
  std::vector<double> rates;
  for (int i = 0; i < repetitions; ++i) rates.push_back(BatchRate(batch));
  return Summarize(rates);
}

}  // namespace

void RunTaskBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                       ResultSet& results) {
  if (options.Selected("task_sync_roundtrip")) {
    AddRoundTripRecord(
        "task_sync_roundtrip", "run the tasks", cross_rank, mpi,
        [&] { return MeasureSyncRoundTrip(options); }, results);
  }
  const std::string local_note = "one rank: the tasks ran on the driver's own rank";
  if (options.Selected("task_async_throughput")) {
    Record r = MakeRecord(
        "task_async_throughput",
        MeasureBatches(1000, options.Repetitions(3, 0), options.Repetitions(41, 2)), "tasks/s");
    if (!cross_rank) r.note = local_note;
    results.Add(std::move(r));
  }
  if (options.Selected("task_async_throughput_100k")) {
    Record r = MakeRecord("task_async_throughput_100k",
                          MeasureBatches(100000, 0, options.Repetitions(5, 1)), "tasks/s");
    if (!cross_rank) r.note = local_note;
    results.Add(std::move(r));
  }
}

}  // namespace prism::bench
