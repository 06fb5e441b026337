#include "scheduling_benchmarks.h"

#include <prism/prism.h>

#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "stats.h"
#include "stopwatch.h"

namespace prism::bench {
namespace {

int SchedulingNoop() { return 1; }

int SchedulingBlocker(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return 1;
}

}  // namespace
}  // namespace prism::bench

PRISM_REMOTE(prism::bench::SchedulingNoop, prism::bench::SchedulingBlocker);

namespace prism::bench {
namespace {

// Submissions per second of `tasks` noop tasks while `blockers` tasks hold every CPU; with
// `affinity`, each goes to rank `affinity_rank` by hard node affinity.
double SubmitRate(int tasks, int blockers, int block_ms, bool affinity, int affinity_rank) {
  std::vector<ObjectRef<int>> held;
  for (int i = 0; i < blockers; ++i) held.push_back(Task(SchedulingBlocker).Remote(block_ms));
  // Let the blockers start and their ranks report that they are full.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::vector<ObjectRef<int>> refs;
  refs.reserve(static_cast<size_t>(tasks));
  auto strategy = NodeAffinitySchedulingStrategy::Rank(affinity_rank);
  Stopwatch watch;
  for (int i = 0; i < tasks; ++i) {
    if (affinity) {
      refs.push_back(Task(SchedulingNoop).SetSchedulingStrategy(strategy).Remote());
    } else {
      refs.push_back(Task(SchedulingNoop).Remote());
    }
  }
  double seconds = watch.ElapsedSeconds();
  int sum = 0;
  for (const auto& v : Get(held, 120'000)) sum += *v;
  for (const auto& v : Get(refs, 120'000)) sum += *v;
  if (sum != tasks + blockers)
    throw std::runtime_error("scheduling_decisions_per_s: wrong results");
  return tasks / seconds;
}

}  // namespace

void RunSchedulingBenchmarks(const BenchOptions& options, ResultSet& results) {
  if (!options.Selected("scheduling_decisions_per_s")) return;
  const int cpus = static_cast<int>(ClusterResources()["CPU"]);
  if (cpus < 1) {
    results.AddNote("scheduling_decisions_per_s skipped: no rank has a CPU");
    return;
  }
  const int tasks = options.quick() ? 2000 : 20000;
  const int block_ms = options.quick() ? 200 : 600;
  // The last rank has a CPU whether or not rank 0 runs tasks.
  const int target = GetRuntimeContext().GetWorldSize() - 1;
  std::vector<double> default_rates;
  std::vector<double> affinity_rates;
  const int repetitions = options.Repetitions(5, 1);
  for (int r = 0; r < repetitions; ++r) {
    default_rates.push_back(SubmitRate(tasks, cpus, block_ms, false, target));
    affinity_rates.push_back(SubmitRate(tasks, cpus, block_ms, true, target));
  }
  Record record = MakeRecord("scheduling_decisions_per_s", Summarize(default_rates), "tasks/s");
  record.baseline_name = "node_affinity_submit_per_s";
  record.baseline_value = Summarize(affinity_rates).median;
  record.note = "DEFAULT decisions while every CPU runs a blocker; baseline: hard node affinity";
  results.Add(std::move(record));
}

}  // namespace prism::bench
