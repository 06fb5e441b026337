#include "metg.h"

#include <algorithm>
#include <cmath>

namespace prism::bench {

std::optional<double> MetgMicros(std::vector<GrainPoint> points, double threshold) {
  std::sort(points.begin(), points.end(),
            [](const GrainPoint& a, const GrainPoint& b) { return a.grain_us > b.grain_us; });
  // Walk down from the largest grain while efficiency stays at or above the threshold.
  const GrainPoint* above = nullptr;
  for (const GrainPoint& p : points) {
    if (p.efficiency >= threshold) {
      above = &p;
      continue;
    }
    if (above == nullptr) return std::nullopt;
    const double fraction = (above->efficiency - threshold) / (above->efficiency - p.efficiency);
    const double log_a = std::log(above->granularity_us());
    const double log_b = std::log(p.granularity_us());
    return std::exp(log_a + fraction * (log_b - log_a));
  }
  if (above == nullptr) return std::nullopt;
  return above->granularity_us();
}

}  // namespace prism::bench
