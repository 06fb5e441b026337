#include "taskbench_benchmarks.h"

#include <prism/prism.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "metg.h"
#include "stopwatch.h"

namespace prism::bench {
namespace {

// A compute-bound kernel of `iterations` dependent multiply-adds. The empty asm keeps the
// compiler from folding or vectorising the chain, so time grows linearly with iterations.
uint64_t BusyLoop(int64_t iterations) {
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int64_t i = 0; i < iterations; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    asm volatile("" : "+r"(x));
  }
  return x;
}

// A task's output: a function of its inputs only, so the driver can recompute the graph and
// check that every task saw the right dependencies.
int64_t Mix(int64_t a, int64_t b, int64_t c) {
  return static_cast<int64_t>((static_cast<uint64_t>(a) * 3 + static_cast<uint64_t>(b) * 5 +
                               static_cast<uint64_t>(c) * 7 + 1) %
                              1000000007ull);
}

}  // namespace

/// Kernel iterations per µs on the rank that runs it (the best of a few timed runs).
double CalibrateKernel() {
  constexpr int64_t kIterations = int64_t{1} << 22;
  double best_us = 1e300;
  for (int i = 0; i < 5; ++i) {
    Stopwatch watch;
    BusyLoop(kIterations);
    best_us = std::min(best_us, watch.ElapsedMicros());
  }
  return static_cast<double>(kIterations) / best_us;
}

/// A stencil task: the kernel, then Mix of its three dependencies.
int64_t StencilPoint(int64_t iterations, int64_t left, int64_t center, int64_t right) {
  BusyLoop(iterations);
  return Mix(left, center, right);
}

/// A tree task: the kernel, then Mix of its parent and its own index.
int64_t TreePoint(int64_t iterations, int64_t parent, int64_t point) {
  BusyLoop(iterations);
  return Mix(parent, point, 0);
}

PRISM_REMOTE(CalibrateKernel, StencilPoint, TreePoint);

namespace {

enum class Pattern { kStencil, kTree };

const char* PatternName(Pattern pattern) {
  return pattern == Pattern::kStencil ? "stencil" : "tree";
}

// Tasks at step `t` of a graph of `width`.
int64_t WidthAt(Pattern pattern, int64_t width, int64_t t) {
  if (pattern == Pattern::kStencil || t >= 62) return width;
  return std::min(width, int64_t{1} << t);
}

// How large one sweep is.
struct SweepPlan {
  std::vector<double> grains_us;
  // Useful compute per run (all CPUs together), which sets the steps at large grains.
  double target_seconds;
  int min_steps;
  // A cap on the tasks of one run, which sets the steps at small grains.
  int64_t max_tasks;
  int repetitions;
};

SweepPlan PlanFor(const BenchOptions& options) {
  if (options.quick()) return {{10, 100, 1000}, 0.01, 4, 400, 1};
  return {{1, 3, 10, 30, 100, 300, 1000, 3000, 10000}, 0.3, 8, 20000, 3};
}

size_t At(int64_t index) { return static_cast<size_t>(index); }

// Runs one graph of `steps` steps; returns wall seconds and the number of tasks. Throws when
// the last step's values differ from the driver's own computation of the graph.
std::pair<double, int64_t> RunGraph(Pattern pattern, int64_t width, int64_t steps,
                                    int64_t iterations) {
  std::vector<prism::ObjectRef<int64_t>> previous;
  std::vector<prism::ObjectRef<int64_t>> current;
  std::vector<int64_t> expected_previous;
  std::vector<int64_t> expected;
  int64_t tasks = 0;
  Stopwatch watch;
  for (int64_t t = 0; t < steps; ++t) {
    const int64_t n = WidthAt(pattern, width, t);
    current.clear();
    expected.assign(static_cast<size_t>(n), 0);
    for (int64_t i = 0; i < n; ++i) {
      if (pattern == Pattern::kStencil) {
        const int64_t l = std::max<int64_t>(0, i - 1);
        const int64_t r = std::min(width - 1, i + 1);
        if (t == 0) {
          current.push_back(
              prism::Task(StencilPoint).Remote(iterations, int64_t{0}, i, int64_t{0}));
          expected[At(i)] = Mix(0, i, 0);
        } else {
          current.push_back(
              prism::Task(StencilPoint)
                  .Remote(iterations, previous[At(l)], previous[At(i)], previous[At(r)]));
          expected[At(i)] =
              Mix(expected_previous[At(l)], expected_previous[At(i)], expected_previous[At(r)]);
        }
      } else if (t == 0) {
        current.push_back(prism::Task(TreePoint).Remote(iterations, int64_t{0}, i));
        expected[At(i)] = Mix(0, i, 0);
      } else {
        current.push_back(prism::Task(TreePoint).Remote(iterations, previous[At(i / 2)], i));
        expected[At(i)] = Mix(expected_previous[At(i / 2)], i, 0);
      }
    }
    tasks += n;
    std::swap(previous, current);
    std::swap(expected_previous, expected);
  }
  std::vector<std::shared_ptr<int64_t>> values = prism::Get(previous);
  const double seconds = watch.ElapsedSeconds();
  for (size_t i = 0; i < values.size(); ++i) {
    if (*values[i] != expected_previous[i]) {
      throw std::runtime_error(std::string("taskbench ") + PatternName(pattern) +
                               ": wrong task result");
    }
  }
  return {seconds, tasks};
}

// "0.3" for 0.3 and "10" for 10: grain labels of record names.
std::string GrainLabel(double grain_us) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", grain_us);
  return text;
}

void RunSweep(const BenchOptions& options, Pattern pattern, double task_cpus,
              double iterations_per_us, ResultSet& results) {
  const SweepPlan plan = PlanFor(options);
  const auto width = std::max<int64_t>(1, std::llround(task_cpus));
  const std::string prefix = std::string("taskbench_") + PatternName(pattern);
  std::vector<GrainPoint> points;
  for (double grain_us : plan.grains_us) {
    const auto iterations = std::max<int64_t>(1, std::llround(grain_us * iterations_per_us));
    // Enough steps for target_seconds of useful compute, within [min_steps, max_tasks / width].
    const auto wanted = static_cast<int64_t>(plan.target_seconds * 1e6 / grain_us);
    const int64_t steps =
        std::max<int64_t>(plan.min_steps, std::min(wanted, plan.max_tasks / width));
    std::vector<double> efficiencies;
    for (int r = 0; r < plan.repetitions; ++r) {
      auto [seconds, tasks] = RunGraph(pattern, width, steps, iterations);
      const double useful_us = static_cast<double>(tasks) * grain_us;
      efficiencies.push_back(useful_us / (seconds * 1e6 * task_cpus));
    }
    Summary s = Summarize(efficiencies);
    points.push_back({.grain_us = grain_us, .efficiency = s.median});
    Record r = MakeRecord(
        prefix + "_eff_" + GrainLabel(grain_us) + "us",
        {.median = 100 * s.median, .p10 = 100 * s.p10, .p90 = 100 * s.p90, .count = s.count}, "%");
    results.Add(std::move(r));
  }
  const std::string metg_name = std::string("metg_") + PatternName(pattern) + "_us";
  std::optional<double> metg = MetgMicros(points, 0.5);
  std::string bound;
  if (!metg) {
    // Still a record, so that a run on oversubscribed or busy cores shows how far off it is.
    metg = std::max_element(points.begin(), points.end(), [](const auto& a, const auto& b) {
             return a.grain_us < b.grain_us;
           })->granularity_us();
    bound = "; below 50% at every grain: a lower bound";
  } else if (std::all_of(points.begin(), points.end(),
                         [](const GrainPoint& p) { return p.efficiency >= 0.5; })) {
    bound = "; at least 50% at every grain: an upper bound";
  }
  Record r = MakeRecord(metg_name, Summarize({*metg}), "us");
  r.repetitions = points.size();
  r.note = "width " + std::to_string(width) + " (the task ranks' CPUs)" + bound;
  results.Add(std::move(r));
}

}  // namespace

void RunTaskBenchBenchmarks(const BenchOptions& options, double task_cpus, ResultSet& results) {
  const bool stencil = options.Selected("metg_stencil_us");
  const bool tree = options.Selected("metg_tree_us");
  if (!stencil && !tree) return;
  if (task_cpus <= 0) {
    results.AddNote("Task Bench sweeps skipped: no rank runs tasks");
    return;
  }
  // Calibrated where the tasks run (with rank 0 given no CPUs, on another rank).
  const double iterations_per_us = *prism::Task(CalibrateKernel).Remote().Get();
  if (!(iterations_per_us > 0)) throw std::runtime_error("taskbench: kernel calibration failed");
  if (stencil) RunSweep(options, Pattern::kStencil, task_cpus, iterations_per_us, results);
  if (tree) RunSweep(options, Pattern::kTree, task_cpus, iterations_per_us, results);
}

}  // namespace prism::bench
