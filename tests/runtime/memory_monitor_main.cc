// The memory monitor (FEATURES.md MEM-02..08): a task that keeps allocating on a rank with a
// small memory limit is stopped with OutOfMemoryError instead of the kernel killing the rank,
// and the rank goes on running tasks afterwards. Every rank runs this binary; rank 0 runs the
// cases with a 1.5 GiB limit per rank and 10 ms sampling.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace memory_monitor_test {

constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kLimit = 1536 * kMiB;

/// Allocates (and touches) `step_mib` at a time up to `max_mib`, calling into Prism after each
/// step; returns how much it held at the end.
int64_t Hog(int64_t max_mib, int64_t step_mib) {
  std::vector<std::unique_ptr<char[]>> held;
  int64_t total = 0;
  while (total < max_mib) {
    held.emplace_back(new char[static_cast<size_t>(step_mib * kMiB)]);
    std::memset(held.back().get(), 1, static_cast<size_t>(step_mib * kMiB));
    total += step_mib;
    prism::Put(total);  // where the monitor can stop this task
  }
  return total;
}

int Identity(int x) { return x; }

}  // namespace memory_monitor_test

PRISM_REMOTE(memory_monitor_test::Hog, memory_monitor_test::Identity);

namespace memory_monitor_test {
namespace {

TEST(MemoryMonitorTest, ReportsEachRanksLimit) {
  for (const prism::RankMemory& m : prism::MemorySummary().ranks)
    EXPECT_EQ(m.memory_limit_bytes, static_cast<uint64_t>(kLimit)) << "rank " << m.rank;
}

TEST(MemoryMonitorTest, StopsATaskThatKeepsAllocatingAndRecovers) {
  // 4 GiB would pass the 1.5 GiB limit well before the end.
  auto hog = prism::Task(Hog).Remote(int64_t{4096}, int64_t{32});
  try {
    int64_t held = *hog.Get();
    FAIL() << "the task held " << held << " MiB with a " << kLimit / kMiB << " MiB limit";
  } catch (const prism::OutOfMemoryError& e) {
    EXPECT_NE(std::string(e.what()).find("memory monitor"), std::string::npos) << e.what();
  }
  // The rank admits tasks again once the hog's memory is gone.
  std::vector<prism::ObjectRef<int>> after;
  for (int i = 0; i < 8; ++i) after.push_back(prism::Task(Identity).Remote(i));
  for (int i = 0; i < 8; ++i) EXPECT_EQ(*after[i].Get(30'000), i);
}

TEST(MemoryMonitorTest, ATaskWithinTheLimitIsLeftAlone) {
  EXPECT_EQ(*prism::Task(Hog).Remote(int64_t{256}, int64_t{32}).Get(), 256);
}

}  // namespace
}  // namespace memory_monitor_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  prism::Config config;
  config.system_config["memory_limit"] = std::to_string(memory_monitor_test::kLimit);
  config.system_config["memory_monitor_refresh_ms"] = "10";
  prism::Init(config, argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
