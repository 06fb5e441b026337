#include "stats.h"

#include <algorithm>
#include <cmath>

namespace prism::bench {

double Quantile(std::vector<double> samples, double q) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  double position = std::clamp(q, 0.0, 1.0) * static_cast<double>(samples.size() - 1);
  auto lower = static_cast<size_t>(std::floor(position));
  size_t upper = std::min(lower + 1, samples.size() - 1);
  double fraction = position - static_cast<double>(lower);
  return samples[lower] + fraction * (samples[upper] - samples[lower]);
}

Summary Summarize(const std::vector<double>& samples) {
  Summary s;
  s.count = samples.size();
  s.median = Quantile(samples, 0.5);
  s.p10 = Quantile(samples, 0.1);
  s.p90 = Quantile(samples, 0.9);
  return s;
}

}  // namespace prism::bench
