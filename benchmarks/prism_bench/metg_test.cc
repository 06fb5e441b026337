#include "metg.h"

#include <gtest/gtest.h>

#include <cmath>

namespace prism::bench {
namespace {

TEST(MetgTest, InterpolatesInLogGranularityBetweenTheCrossingPoints) {
  // 100 us at 80% (granularity 125 us), 10 us at 20% (granularity 50 us): 50% is halfway.
  std::optional<double> metg =
      MetgMicros({{.grain_us = 10, .efficiency = 0.2}, {.grain_us = 100, .efficiency = 0.8}}, 0.5);
  ASSERT_TRUE(metg.has_value());
  EXPECT_NEAR(*metg, std::sqrt(125.0 * 50.0), 1e-9);
}

TEST(MetgTest, StopsAtTheFirstGrainBelowTheThresholdGoingDown) {
  // 1 us is above 50% again (noise), but METG is where efficiency first falls below it.
  std::optional<double> metg = MetgMicros({{.grain_us = 1000, .efficiency = 0.9},
                                           {.grain_us = 1, .efficiency = 0.6},
                                           {.grain_us = 100, .efficiency = 0.5},
                                           {.grain_us = 10, .efficiency = 0.1}},
                                          0.5);
  ASSERT_TRUE(metg.has_value());
  EXPECT_NEAR(*metg, 200.0, 1e-9);  // exactly 50% at 100 us: granularity 100 / 0.5
}

TEST(MetgTest, EveryGrainAboveGivesTheSmallestGranularityAsAnUpperBound) {
  std::optional<double> metg =
      MetgMicros({{.grain_us = 100, .efficiency = 0.9}, {.grain_us = 10, .efficiency = 0.8}}, 0.5);
  ASSERT_TRUE(metg.has_value());
  EXPECT_NEAR(*metg, 12.5, 1e-9);
}

TEST(MetgTest, NoGrainAboveGivesNothing) {
  EXPECT_FALSE(
      MetgMicros({{.grain_us = 100, .efficiency = 0.4}, {.grain_us = 10, .efficiency = 0.1}}, 0.5));
  EXPECT_FALSE(MetgMicros({}, 0.5));
}

}  // namespace
}  // namespace prism::bench
