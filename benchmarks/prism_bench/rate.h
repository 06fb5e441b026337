#pragma once
/// MeasureRate: operations per second of a repeated piece of work, the shape of most Prism
/// measures (Ray's `timeit` in `ray microbenchmark` reports the same unit).
///
///   Summary s = MeasureRate(1000, /*warmup=*/3, /*repetitions=*/41, [&] { RunBatch(); });

#include <functional>

#include "stats.h"

namespace prism::bench {

/// Operations per second of `run`, which performs `ops` of them: `warmup` untimed runs, then
/// `repetitions` timed ones. `after` runs after every run, untimed (to free what `run` made).
Summary MeasureRate(
    double ops, int warmup, int repetitions, const std::function<void()>& run,
    const std::function<void()>& after = [] {});

}  // namespace prism::bench
