#include "rate.h"

#include <vector>

#include "stopwatch.h"

namespace prism::bench {

Summary MeasureRate(double ops, int warmup, int repetitions, const std::function<void()>& run,
                    const std::function<void()>& after) {
  for (int i = 0; i < warmup; ++i) {
    run();
    after();
  }
  std::vector<double> rates;
  rates.reserve(static_cast<size_t>(repetitions));
  for (int i = 0; i < repetitions; ++i) {
    Stopwatch watch;
    run();
    rates.push_back(ops / watch.ElapsedSeconds());
    after();
  }
  return Summarize(rates);
}

}  // namespace prism::bench
