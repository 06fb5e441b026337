// monte_carlo_pi: estimate π with sampling tasks spread over every rank, while a progress actor
// collects how far each task got and the driver prints it (the seed's Monte Carlo example).
//
//   ./build/bin/monte_carlo_pi [num_tasks] [samples_per_task]
//   mpirun -n 4 ./build/bin/monte_carlo_pi 64 2000000

#include <prism/prism.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <vector>

// Collects the samples each task has completed. Tasks report to it and the driver polls it; an
// actor runs one call at a time, so its state needs no lock.
class ProgressActor {
 public:
  explicit ProgressActor(int64_t total_samples) : total_samples_(total_samples) {}

  void ReportProgress(int64_t task_id, int64_t num_samples_completed) {
    completed_per_task_[task_id] = num_samples_completed;
  }

  // The fraction of all samples completed, in [0, 1].
  double GetProgress() {
    int64_t completed = 0;
    for (const auto& [task_id, samples] : completed_per_task_) completed += samples;
    return static_cast<double>(completed) / static_cast<double>(total_samples_);
  }

 private:
  int64_t total_samples_;
  std::map<int64_t, int64_t> completed_per_task_;
};

ProgressActor* CreateProgressActor(int64_t total_samples) {
  return new ProgressActor(total_samples);
}

// How often a task reports (the seed's tasks report every million samples; smaller runs here
// still show progress).
constexpr int64_t kReportEvery = 100'000;

// Samples points in the unit square; returns how many fall inside the quarter circle.
int64_t SampleInside(int64_t samples, int64_t task_id,
                     const prism::ActorHandle<ProgressActor>& progress) {
  std::mt19937_64 rng(12345 + static_cast<uint64_t>(task_id));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int64_t inside = 0;
  for (int64_t i = 0; i < samples; ++i) {
    double x = unit(rng);
    double y = unit(rng);
    inside += (x * x + y * y <= 1.0) ? 1 : 0;
    // Reports do not wait for the actor: sampling goes on while it records them.
    if ((i + 1) % kReportEvery == 0) {
      progress.Task(&ProgressActor::ReportProgress).Remote(task_id, i + 1);
    }
  }
  // The final report is awaited, so that a finished task's samples are all counted.
  progress.Task(&ProgressActor::ReportProgress).Remote(task_id, samples).Get();
  return inside;
}

PRISM_REMOTE(SampleInside, CreateProgressActor, &ProgressActor::ReportProgress,
             &ProgressActor::GetProgress);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int64_t num_tasks = argc > 1 ? std::atoll(argv[1]) : 32;
  int64_t samples = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
  if (num_tasks <= 0 || samples <= 0) {
    std::cerr << "usage: monte_carlo_pi [num_tasks > 0] [samples_per_task > 0]\n";
    prism::Shutdown();
    return 2;
  }

  auto progress = prism::Actor(CreateProgressActor).Remote(num_tasks * samples);
  std::vector<prism::ObjectRef<int64_t>> counts;
  for (int64_t t = 0; t < num_tasks; ++t) {
    counts.push_back(prism::Task(SampleInside).Remote(samples, t, progress));
  }

  // Polls the progress actor every 200 ms until every task has finished.
  double fraction = 0.0;
  for (bool done = false; !done;) {
    done = prism::Wait(counts, static_cast<int>(counts.size()), /*timeout_ms=*/200).unready.empty();
    fraction = *progress.Task(&ProgressActor::GetProgress).Remote().Get();
    std::cout << "progress: " << static_cast<int>(fraction * 100) << " %\n";
  }

  int64_t inside = 0;
  for (const auto& c : prism::Get(counts)) inside += *c;

  double total = static_cast<double>(num_tasks) * static_cast<double>(samples);
  double pi = 4.0 * static_cast<double>(inside) / total;
  // Three standard deviations of the estimator: 4 * sqrt(p (1 - p) / n) with p = π/4.
  double tolerance = 3.0 * 4.0 * std::sqrt((M_PI / 4) * (1 - M_PI / 4) / total);
  std::cout << std::setprecision(8) << "π ≈ " << pi << " from " << static_cast<int64_t>(total)
            << " samples in " << num_tasks << " tasks on "
            << prism::GetRuntimeContext().GetWorldSize() << " ranks (error " << std::abs(pi - M_PI)
            << ", 3σ = " << tolerance << ")\n";
  prism::Shutdown();
  if (fraction != 1.0) {
    std::cerr << "monte_carlo_pi: progress ended at " << fraction << ", not 1\n";
    return 1;
  }
  return std::abs(pi - M_PI) <= tolerance ? 0 : 1;
}
