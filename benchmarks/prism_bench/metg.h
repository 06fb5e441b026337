#pragma once
/// METG(50%), Task Bench's figure of merit (Slaughter et al., SC'20): the minimum effective task
/// granularity, i.e. the smallest average task granularity (wall time x cores / tasks) at which
/// a runtime still reaches 50% efficiency (useful compute / (wall time x cores)).
///
///   std::vector<GrainPoint> points = {{.grain_us = 10, .efficiency = 0.3},
///                                     {.grain_us = 100, .efficiency = 0.8}};
///   std::optional<double> metg = MetgMicros(points, 0.5);   // between 10/0.3 and 100/0.8 us

#include <optional>
#include <vector>

namespace prism::bench {

/// One run of a task graph at one task grain.
struct GrainPoint {
  /// Compute time of one task's kernel, in µs.
  double grain_us = 0;
  /// Useful compute / (wall time x cores), 0..1.
  double efficiency = 0;
  /// The average task granularity of the run: wall time x cores / tasks = grain / efficiency.
  double granularity_us() const { return grain_us / efficiency; }
};

/// The granularity (µs) at which efficiency crosses `threshold`, going from the largest grain
/// down: interpolated linearly in efficiency against log(granularity) between the smallest
/// grain still at or above the threshold and the next smaller one. When every point is at or
/// above it, the smallest point's granularity (an upper bound); nullopt when none is.
std::optional<double> MetgMicros(std::vector<GrainPoint> points, double threshold);

}  // namespace prism::bench
