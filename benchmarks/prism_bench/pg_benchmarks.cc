#include "pg_benchmarks.h"

#include <prism/prism.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "stats.h"
#include "stopwatch.h"

namespace prism::bench {
namespace {

// Groups created per repetition of placement_group_create_removal (as ray_bench.py).
constexpr int kBatchGroups = 100;
// Sequential create/wait/remove iterations per repetition of pg_create_remove_per_s.
constexpr int kSequentialGroups = 200;

PlacementGroup CreateOne(double cpus) {
  return CreatePlacementGroup(
      PlacementGroupCreationOptions{false, "", {{{"CPU", cpus}}}, PlacementStrategy::kPack});
}

void WaitCreated(const PlacementGroup& pg) {
  if (!pg.Wait(30)) {
    throw std::runtime_error("placement group " + pg.GetID() + " was not created within 30 s");
  }
}

// Groups per second: `groups` of one {CPU: cpus} bundle created, waited for and removed, `batch`
// at a time.
double Rate(int groups, int batch, double cpus) {
  Stopwatch watch;
  std::vector<PlacementGroup> live;
  live.reserve(static_cast<size_t>(batch));
  for (int done = 0; done < groups; done += batch) {
    live.clear();
    for (int i = 0; i < batch; ++i) live.push_back(CreateOne(cpus));
    for (const auto& pg : live) WaitCreated(pg);
    for (const auto& pg : live) RemovePlacementGroup(pg.GetID());
  }
  return groups / watch.ElapsedSeconds();
}

}  // namespace

void RunPlacementGroupBenchmarks(const BenchOptions& options, ResultSet& results) {
  const bool batch = options.Selected("placement_group_create_removal");
  const bool sequential = options.Selected("pg_create_remove_per_s");
  if (!batch && !sequential) return;
  // A warm-up group: the first request sets up the controller's paths.
  Rate(1, 1, 1.0);
  const int repetitions = options.Repetitions(7, 1);
  if (batch) {
    std::vector<double> rates;
    for (int r = 0; r < repetitions; ++r) rates.push_back(Rate(kBatchGroups, kBatchGroups, 0.001));
    Record record = MakeRecord("placement_group_create_removal", Summarize(rates), "groups/s");
    record.note = "100 groups of one {CPU: 0.001} bundle a repetition; Ray publishes 765/s";
    results.Add(std::move(record));
  }
  if (sequential) {
    std::vector<double> rates;
    const int groups = options.quick() ? 20 : kSequentialGroups;
    for (int r = 0; r < repetitions; ++r) rates.push_back(Rate(groups, 1, 1.0));
    Record record = MakeRecord("pg_create_remove_per_s", Summarize(rates), "groups/s");
    record.note = "one {CPU: 1} group at a time: create, Wait, remove; Ray publishes 765/s";
    results.Add(std::move(record));
  }
}

}  // namespace prism::bench
