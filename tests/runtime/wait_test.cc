// prism::Wait: the first ready objects, num_objects and the timeout.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <chrono>

#include "test_functions.h"

namespace prism_test {
namespace {

using Clock = std::chrono::steady_clock;

TEST(WaitTest, ReturnsTheFirstReadyAndHonoursNumObjects) {
  std::vector<prism::ObjectRef<int>> refs{prism::Task(SleepMs).Remote(3000), prism::Put(1),
                                          prism::Task(SleepMs).Remote(3000)};
  auto start = Clock::now();
  auto result = prism::Wait(refs, 1, -1);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2000));
  ASSERT_EQ(result.ready.size(), 1u);
  EXPECT_EQ(result.ready[0], refs[1]);
  EXPECT_EQ(result.unready.size(), 2u);
}

TEST(WaitTest, HonoursTheTimeout) {
  std::vector<prism::ObjectRef<int>> refs{prism::Task(SleepMs).Remote(3000)};
  auto start = Clock::now();
  auto result = prism::Wait(refs, 1, 100);
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(100));
  EXPECT_LT(waited, std::chrono::milliseconds(2000));
  EXPECT_TRUE(result.ready.empty());
  EXPECT_EQ(result.unready.size(), 1u);
}

TEST(WaitTest, WaitsForAllWhenAsked) {
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 20; ++i) refs.push_back(prism::Task(SleepMs).Remote(i));
  auto result = prism::Wait(refs, 20, -1);
  EXPECT_EQ(result.ready.size(), 20u);
  EXPECT_TRUE(result.unready.empty());
}

TEST(WaitTest, ZeroObjectsReturnsAtOnceWithTheCurrentSplit) {
  std::vector<prism::ObjectRef<int>> refs{prism::Put(5), prism::Task(SleepMs).Remote(3000)};
  auto start = Clock::now();
  auto result = prism::Wait(refs, 0, 10'000);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
  EXPECT_EQ(result.ready.size() + result.unready.size(), 2u);
  ASSERT_FALSE(result.ready.empty());
  EXPECT_EQ(result.ready[0], refs[0]);
}

TEST(WaitTest, RejectsMoreObjectsThanRefs) {
  std::vector<prism::ObjectRef<int>> refs{prism::Put(1)};
  EXPECT_THROW(prism::Wait(refs, 2, 0), prism::PrismError);
}

}  // namespace
}  // namespace prism_test
