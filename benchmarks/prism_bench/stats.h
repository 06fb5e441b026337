#pragma once
/// Order statistics of repeated measurements: every figure prism-bench reports is a median.
///
///   std::vector<double> samples = {5.1, 4.9, 7.3};
///   Summary s = Summarize(samples);   // s.median == 5.1

#include <cstddef>
#include <vector>

namespace prism::bench {

/// Median and the 10th/90th percentiles of a set of samples (all zero when there are none).
struct Summary {
  double median = 0;
  double p10 = 0;
  double p90 = 0;
  /// How many samples the figures come from.
  size_t count = 0;
};

/// The `q`-quantile (0 <= q <= 1) of `samples`, interpolating linearly between closest ranks.
double Quantile(std::vector<double> samples, double q);

/// Median, p10 and p90 of `samples`.
Summary Summarize(const std::vector<double>& samples);

}  // namespace prism::bench
