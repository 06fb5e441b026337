#include "prism/objstore/memory_limit.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace prism::objstore {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

// A fake machine: files by path, variables by name.
struct FakeNode {
  std::map<std::string, std::string> files;
  std::map<std::string, std::string> env;

  MemorySources Sources() const {
    MemorySources s;
    s.read_file = [this](const std::string& path) -> std::optional<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    s.get_env = [this](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    };
    return s;
  }
};

FakeNode With64GiB() {
  FakeNode node;
  node.files["/proc/meminfo"] =
      "MemTotal:       67108864 kB\nMemFree:        1000 kB\nMemAvailable:   2000 kB\n";
  return node;
}

TEST(MemoryLimitTest, MemTotalWhenNothingElseApplies) {
  FakeNode node = With64GiB();
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit) << limit.error().ToString();
  EXPECT_EQ(limit->bytes, 64 * kGiB);
  EXPECT_EQ(limit->source, "/proc/meminfo MemTotal");
}

TEST(MemoryLimitTest, CgroupV2MemoryMaxOfThisProcessesCgroup) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "0::/user.slice/job_7/step_0\n";
  node.files["/sys/fs/cgroup/user.slice/job_7/step_0/memory.max"] = "8589934592\n";
  node.files["/sys/fs/cgroup/user.slice/job_7/memory.max"] = "max\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit) << limit.error().ToString();
  EXPECT_EQ(limit->bytes, 8 * kGiB);
  EXPECT_EQ(limit->source, "cgroup v2 /sys/fs/cgroup/user.slice/job_7/step_0/memory.max");
}

TEST(MemoryLimitTest, CgroupV2TakesTheTightestAncestor) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "0::/job/step\n";
  node.files["/sys/fs/cgroup/job/step/memory.max"] = "max\n";
  node.files["/sys/fs/cgroup/job/memory.max"] = "4294967296\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->bytes, 4 * kGiB);
}

TEST(MemoryLimitTest, CgroupV2WithoutALimitFallsBackToSlurm) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "0::/\n";
  node.files["/sys/fs/cgroup/memory.max"] = "max\n";
  node.env["SLURM_MEM_PER_NODE"] = "16000";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->bytes, 16000 * kMiB);
  EXPECT_EQ(limit->source, "SLURM_MEM_PER_NODE");
}

TEST(MemoryLimitTest, CgroupV1LimitInBytes) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] =
      "12:pids:/slurm/uid_0/job_5\n11:cpuset,cpu:/x\n4:memory:/slurm/uid_0/job_5\n"
      "0::/whatever\n";
  node.files["/sys/fs/cgroup/memory/slurm/uid_0/job_5/memory.limit_in_bytes"] = "2147483648";
  // v1 "no limit" at the root.
  node.files["/sys/fs/cgroup/memory/memory.limit_in_bytes"] = "9223372036854771712\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit) << limit.error().ToString();
  EXPECT_EQ(limit->bytes, 2 * kGiB);
  EXPECT_EQ(limit->source,
            "cgroup v1 /sys/fs/cgroup/memory/slurm/uid_0/job_5/memory.limit_in_bytes");
}

TEST(MemoryLimitTest, CgroupV1UnlimitedIsNoLimit) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "4:memory:/\n";
  node.files["/sys/fs/cgroup/memory/memory.limit_in_bytes"] = "9223372036854771712\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->bytes, 64 * kGiB);
}

TEST(MemoryLimitTest, ACgroupLimitAboveMemTotalIsCappedByIt) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "0::/big\n";
  node.files["/sys/fs/cgroup/big/memory.max"] = std::to_string(128 * kGiB);
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->bytes, 64 * kGiB);
}

TEST(MemoryLimitTest, SlurmMemPerCpuTimesCpusOnNode) {
  FakeNode node = With64GiB();
  node.env["SLURM_MEM_PER_CPU"] = "2000";
  node.env["SLURM_CPUS_ON_NODE"] = "8";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->bytes, 16000 * kMiB);
  EXPECT_EQ(limit->source, "SLURM_MEM_PER_CPU x SLURM_CPUS_ON_NODE");
}

TEST(MemoryLimitTest, SlurmMemPerNodeZeroMeansTheWholeNode) {
  FakeNode node = With64GiB();
  node.env["SLURM_MEM_PER_NODE"] = "0";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->bytes, 64 * kGiB);
}

TEST(MemoryLimitTest, MalformedSlurmVariableIsNamed) {
  FakeNode node = With64GiB();
  node.env["SLURM_MEM_PER_NODE"] = "16G";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_EQ(limit.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(limit.error().message.find("SLURM_MEM_PER_NODE='16G'"), std::string::npos)
      << limit.error().message;
}

TEST(MemoryLimitTest, MemPerCpuWithoutCpusOnNodeIsAnError) {
  FakeNode node = With64GiB();
  node.env["SLURM_MEM_PER_CPU"] = "1000";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_NE(limit.error().message.find("SLURM_CPUS_ON_NODE"), std::string::npos);
}

TEST(MemoryLimitTest, MalformedCgroupFileIsNamed) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "0::/job\n";
  node.files["/sys/fs/cgroup/job/memory.max"] = "lots\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_EQ(limit.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(limit.error().message.find("/sys/fs/cgroup/job/memory.max"), std::string::npos)
      << limit.error().message;
  EXPECT_NE(limit.error().message.find("'lots'"), std::string::npos);
}

TEST(MemoryLimitTest, MalformedProcSelfCgroupIsNamed) {
  FakeNode node = With64GiB();
  node.files["/proc/self/cgroup"] = "garbage\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_NE(limit.error().message.find("/proc/self/cgroup"), std::string::npos);
}

TEST(MemoryLimitTest, MalformedMeminfoIsNamed) {
  FakeNode node;
  node.files["/proc/meminfo"] = "MemTotal: many kB\n";
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_NE(limit.error().message.find("/proc/meminfo"), std::string::npos);
  node.files["/proc/meminfo"] = "MemFree: 12 kB\n";
  limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_NE(limit.error().message.find("no MemTotal"), std::string::npos);
}

TEST(MemoryLimitTest, NothingReadableIsNotFound) {
  FakeNode node;
  auto limit = DetectNodeMemoryLimit(node.Sources());
  ASSERT_FALSE(limit);
  EXPECT_EQ(limit.error().code, ErrorCode::kNotFound);
}

TEST(MemoryLimitTest, DefaultCapacityIs30PercentOfTheRanksShare) {
  EXPECT_EQ(DefaultStoreCapacity(40 * kGiB, 4), 3 * kGiB);
  EXPECT_EQ(DefaultStoreCapacity(10 * kGiB, 1), 3 * kGiB);
  EXPECT_EQ(DefaultStoreCapacity(10 * kGiB, 0), 3 * kGiB) << "no rank count: the whole node";
  EXPECT_EQ(DefaultStoreCapacity(1000, 2, 0.5), 250u);
}

TEST(MemoryLimitTest, ThisMachineHasALimit) {
  auto limit = DetectNodeMemoryLimit(MemorySources::System());
  ASSERT_TRUE(limit) << limit.error().ToString();
  EXPECT_GT(limit->bytes, 0u);
  EXPECT_FALSE(limit->source.empty());
}

}  // namespace
}  // namespace prism::objstore
