// monte_carlo_pi: estimate π with sampling tasks spread over every rank (the seed's Monte Carlo
// example; its progress actor arrives with actors).
//
//   ./build/bin/monte_carlo_pi [num_tasks] [samples_per_task]
//   mpirun -n 4 ./build/bin/monte_carlo_pi 64 2000000

#include <prism/prism.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <random>
#include <vector>

// Samples points in the unit square; returns how many fall inside the quarter circle.
int64_t SampleInside(int64_t samples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  int64_t inside = 0;
  for (int64_t i = 0; i < samples; ++i) {
    double x = unit(rng);
    double y = unit(rng);
    inside += (x * x + y * y <= 1.0) ? 1 : 0;
  }
  return inside;
}

PRISM_REMOTE(SampleInside);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int64_t num_tasks = argc > 1 ? std::atoll(argv[1]) : 32;
  int64_t samples = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
  if (num_tasks <= 0 || samples <= 0) {
    std::cerr << "usage: monte_carlo_pi [num_tasks > 0] [samples_per_task > 0]\n";
    prism::Shutdown();
    return 2;
  }

  std::vector<prism::ObjectRef<int64_t>> counts;
  for (int64_t t = 0; t < num_tasks; ++t) {
    counts.push_back(prism::Task(SampleInside).Remote(samples, 12345 + static_cast<uint64_t>(t)));
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
  return std::abs(pi - M_PI) <= tolerance ? 0 : 1;
}
