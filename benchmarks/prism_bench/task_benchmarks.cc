#include "task_benchmarks.h"

#include <prism/prism.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rate.h"
#include "stopwatch.h"

namespace prism::bench {

/// The cheapest task: its cost is all Prism's (submit, schedule, run, return, resolve).
int Noop(int x) { return x; }

namespace {

// Submits Noop(0) .. Noop(count - 1), all before one Get of all; throws on a wrong result.
void RunNoopBatch(int count) {
  std::vector<prism::ObjectRef<int>> refs;
  refs.reserve(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) refs.push_back(prism::Task(Noop).Remote(i));
  std::vector<std::shared_ptr<int>> values = prism::Get(refs);
  for (int i = 0; i < count; ++i) {
    if (*values[static_cast<size_t>(i)] != i) throw std::runtime_error("task batch: wrong result");
  }
}

}  // namespace

/// A multi_client_tasks_async caller: a batch of `count` Noop tasks from inside a task.
int SubmitNoops(int count) {
  RunNoopBatch(count);
  return count;
}

PRISM_REMOTE(Noop, SubmitNoops);

namespace {

// Tasks per caller in multi_client_tasks_async, and per batch of single_client_tasks_async.
constexpr int kBatchTasks = 1000;
// Refs waited on in single_client_wait_1k_refs.
constexpr int kWaitRefs = 1000;

// Every round trip of `*Task(Noop).Remote(i).Get()`, in µs, each timed on its own.
std::vector<double> MeasureSyncRoundTrips(const BenchOptions& options) {
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
  return round_trips_us;
}

// Tasks per second of `n` caller tasks running kBatchTasks Noop tasks each.
Summary MeasureMultiClient(const BenchOptions& options, int n) {
  auto run = [&] {
    std::vector<prism::ObjectRef<int>> callers;
    for (int i = 0; i < n; ++i) callers.push_back(prism::Task(SubmitNoops).Remote(kBatchTasks));
    for (const std::shared_ptr<int>& done : prism::Get(callers)) {
      if (*done != kBatchTasks) throw std::runtime_error("multi_client_tasks_async: wrong result");
    }
  };
  return MeasureRate(double{kBatchTasks} * n, options.Repetitions(2, 0), options.Repetitions(21, 1),
                     run);
}

// Ray's `wait_multiple_refs`: submit kWaitRefs tasks, then Wait(not_ready, 1) until none is left
// (Prism's Wait returns every ready ref, Ray's exactly one, so Prism loops fewer times).
Summary MeasureWait1k(const BenchOptions& options) {
  std::vector<prism::ObjectRef<int>> refs;
  size_t ready = 0;
  auto run = [&] {
    for (int i = 0; i < kWaitRefs; ++i) refs.push_back(prism::Task(Noop).Remote(i));
    std::vector<prism::ObjectRef<int>> not_ready = refs;
    while (!not_ready.empty()) {
      prism::WaitResult<int> split = prism::Wait(not_ready, 1, -1);
      ready += split.ready.size();
      not_ready = std::move(split.unready);
    }
  };
  auto check = [&] {
    std::vector<std::shared_ptr<int>> values = prism::Get(refs);
    for (int i = 0; i < kWaitRefs; ++i) {
      if (*values[static_cast<size_t>(i)] != i) {
        throw std::runtime_error("single_client_wait_1k_refs: wrong result");
      }
    }
    if (ready != refs.size()) throw std::runtime_error("single_client_wait_1k_refs: lost refs");
    refs.clear();
    ready = 0;
  };
  return MeasureRate(1, options.Repetitions(2, 0), options.Repetitions(21, 2), run, check);
}

}  // namespace

void RunTaskBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                       ResultSet& results) {
  const std::string local_note = "one rank: the tasks ran on the driver's own rank";
  auto add = [&](Record r) {
    if (!cross_rank) r.note += (r.note.empty() ? "" : "; ") + local_note;
    results.Add(std::move(r));
  };
  // One series of sync calls gives both the round trip (µs) and Ray's rate (tasks/s).
  const bool sync_rate = options.Selected("single_client_tasks_sync");
  if (options.Selected("task_sync_roundtrip") || sync_rate) {
    std::vector<double> round_trips_us;
    if (cross_rank || sync_rate) round_trips_us = MeasureSyncRoundTrips(options);
    if (options.Selected("task_sync_roundtrip")) {
      AddRoundTripRecord(
          "task_sync_roundtrip", "run the tasks", cross_rank, mpi,
          [&] { return Summarize(round_trips_us); }, results);
    }
    if (sync_rate) {
      std::vector<double> rates;
      for (double us : round_trips_us) rates.push_back(1e6 / us);
      add(MakeRecord("single_client_tasks_sync", Summarize(rates), "tasks/s"));
    }
  }
  if (options.Selected("single_client_tasks_async")) {
    add(MakeRecord("single_client_tasks_async",
                   MeasureRate(kBatchTasks, options.Repetitions(3, 0), options.Repetitions(41, 2),
                               [] { RunNoopBatch(kBatchTasks); }),
                   "tasks/s"));
  }
  if (options.Selected("task_async_throughput_100k")) {
    constexpr int kTasks = 100000;
    add(MakeRecord("task_async_throughput_100k",
                   MeasureRate(kTasks, 0, options.Repetitions(5, 1), [] { RunNoopBatch(kTasks); }),
                   "tasks/s"));
  }
  if (options.Selected("multi_client_tasks_async")) {
    const int task_ranks = cross_rank ? GetRuntimeContext().GetWorldSize() - 1 : 1;
    add(MakeRecord("multi_client_tasks_async", MeasureMultiClient(options, 2 * task_ranks),
                   "tasks/s"));
  }
  if (options.Selected("single_client_wait_1k_refs")) {
    add(MakeRecord("single_client_wait_1k_refs", MeasureWait1k(options), "ops/s"));
  }
  if (options.Selected("many_tasks_1m_queued")) {
    // Ray's release test `many_tasks` runs this at cluster scale; one repetition: it is long.
    const int tasks = options.quick() ? 10000 : 1000000;
    Stopwatch watch;
    RunNoopBatch(tasks);
    const double seconds = watch.ElapsedSeconds();
    Record rate = MakeRecord("many_tasks_1m_queued", Summarize({tasks / seconds}), "tasks/s");
    Record total = MakeRecord("many_tasks_1m_queued_seconds", Summarize({seconds}), "s");
    if (options.quick()) rate.note = total.note = "--quick: 10 000 tasks, not 1 000 000";
    add(std::move(rate));
    add(std::move(total));
  }
}

}  // namespace prism::bench
