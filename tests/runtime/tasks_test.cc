// Remote tasks across ranks: results, argument passing, nesting, spreading.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <set>

#include "test_functions.h"

namespace prism_test {
namespace {

TEST(TaskTest, HundredThousandTasksAllReturnTheirOwnResult) {
  constexpr int kTasks = 100'000;
  std::vector<prism::ObjectRef<int64_t>> refs;
  refs.reserve(kTasks);
  for (int i = 0; i < kTasks; ++i) refs.push_back(prism::Task(AddInts).Remote(i, 1'000'000));
  auto values = prism::Get(refs);
  ASSERT_EQ(values.size(), static_cast<size_t>(kTasks));
  int wrong = 0;
  for (int i = 0; i < kTasks; ++i) wrong += (*values[i] != i + 1'000'000) ? 1 : 0;
  EXPECT_EQ(wrong, 0);
}

TEST(TaskTest, ArgumentsAreConvertedToParameterTypes) {
  // int literals for int64_t parameters, const char* for std::string.
  EXPECT_EQ(*prism::Task(AddInts).Remote(2, 3).Get(), 5);
  EXPECT_EQ(*prism::Task(Concat).Remote("ab", std::string("cd")).Get(), "abcd");
}

TEST(TaskTest, TasksSpreadOverEveryRankWithCpus) {
  int size = prism::GetRuntimeContext().GetWorldSize();
  std::vector<prism::ObjectRef<int>> refs;
  // Slow enough that every rank fills up: DEFAULT then spreads the rest over the least loaded.
  for (int i = 0; i < 8 * size; ++i) refs.push_back(prism::Task(SlowRankOf).Remote(20));
  std::set<int> ranks;
  for (const auto& r : prism::Get(refs)) ranks.insert(*r);
  EXPECT_EQ(static_cast<int>(ranks.size()), size);
}

TEST(TaskTest, ObjectRefArgumentIsResolvedWhereverItLives) {
  // A value put on the driver, used by tasks on every rank.
  auto ref = prism::Put(int64_t{41});
  std::vector<prism::ObjectRef<int64_t>> sums;
  for (int i = 0; i < 32; ++i) sums.push_back(prism::Task(AddInts).Remote(ref, 1));
  for (const auto& s : prism::Get(sums)) EXPECT_EQ(*s, 42);
  // And a result made by one task, used by another.
  auto forwarded = prism::Task(Identity).Remote(prism::Task(Identity).Remote(prism::Put(9)));
  EXPECT_EQ(*forwarded.Get(), 9);
}

TEST(TaskTest, ObjectMadeOnOneRankIsUsedOnAnother) {
  // Each task puts a value where it runs and returns the reference; other tasks (on other ranks
  // when there are any) dereference it.
  std::vector<prism::ObjectRef<prism::ObjectRef<int>>> made;
  for (int i = 0; i < 16; ++i) made.push_back(prism::Task(PutHere).Remote(1000 + i));
  std::vector<prism::ObjectRef<int>> read;
  for (int i = 0; i < 16; ++i) read.push_back(prism::Task(Deref).Remote(*made[i].Get()));
  for (int i = 0; i < 16; ++i) EXPECT_EQ(*read[i].Get(), 1000 + i);
}

TEST(TaskTest, ReferenceParameterReceivesTheReferenceItself) {
  auto ref = prism::Put(7);
  EXPECT_EQ(*prism::Task(Deref).Remote(ref).Get(), 7);
}

TEST(TaskTest, LargeResultsStayWhereTheyWereMadeAndArePulled) {
  std::vector<prism::ObjectRef<std::vector<double>>> refs;
  for (int i = 0; i < 8; ++i) refs.push_back(prism::Task(Large).Remote(i));
  for (int i = 0; i < 8; ++i) {
    auto v = refs[i].Get();
    ASSERT_EQ(v->size(), 128u * 1024);
    EXPECT_EQ((*v)[0], i);
    EXPECT_EQ(v->back(), i);
  }
  // A large result as the argument of another task moves between executors directly.
  std::vector<prism::ObjectRef<double>> sums;
  for (int i = 0; i < 8; ++i) sums.push_back(prism::Task(SumVector).Remote(refs[i]));
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(*sums[i].Get(), 128.0 * 1024 * i);
}

TEST(TaskTest, LargeByValueArgumentTravelsAsAnObject) {
  std::vector<double> big(200'000, 0.5);  // 1.6 MB: above the inline limit
  EXPECT_DOUBLE_EQ(*prism::Task(SumVector).Remote(big).Get(), 100'000.0);
}

TEST(NestedTaskTest, ThreeLevelsDeepWithMoreTasksThanWorkerThreads) {
  // 1 + 6 + 36 + 216 tasks, each blocked in Get on its children: without CPU lending this
  // deadlocks on any finite worker pool.
  EXPECT_EQ(*prism::Task(FanOut).Remote(3, 6).Get(), 216);
}

TEST(NestedTaskTest, ManyConcurrentNestedTrees) {
  std::vector<prism::ObjectRef<int64_t>> trees;
  for (int i = 0; i < 10; ++i) trees.push_back(prism::Task(FanOut).Remote(2, 4));
  for (const auto& t : prism::Get(trees)) EXPECT_EQ(*t, 16);
}

TEST(TaskTest, ChainOfDependentTasks) {
  prism::ObjectRef<int64_t> acc = prism::Put(int64_t{0});
  for (int i = 1; i <= 100; ++i) acc = prism::Task(AddInts).Remote(acc, i);
  EXPECT_EQ(*acc.Get(), 5050);
}

}  // namespace
}  // namespace prism_test
