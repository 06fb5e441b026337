// The node side of HPC integration, without a cluster: per-task GPU slots, rank placement over
// a fake bootstrap and fake topologies, shutdown signals, session paths, and prism::GetGpuIds on
// a singleton job.

#include <gtest/gtest.h>
#include <prism/prism.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "binding.h"
#include "gpu_slots.h"
#include "prism/common/wire.h"
#include "resources.h"
#include "session.h"
#include "signals.h"

namespace prism::runtime {
namespace {

// Sets (or, with nullptr, unsets) environment variables for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, const char*>> vars) {
    for (auto [name, value] : vars) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      if (value != nullptr) {
        setenv(name, value, 1);
      } else {
        unsetenv(name);
      }
    }
  }
  ~ScopedEnv() {
    for (auto& [name, old] : saved_) {
      if (old) {
        setenv(name.c_str(), old->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// `size` ranks on one host, all with this process's allowed set and GPU binding: AllGather
// hands back `size` copies of what this rank gives.
class FakeBootstrap : public transport::Bootstrap {
 public:
  FakeBootstrap(Rank rank, int size) : rank_(rank), size_(size), hosts_(size, "node1") {}
  Rank rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return rank_; }
  int local_size() const override { return size_; }
  const std::vector<std::string>& hostnames() const override { return hosts_; }
  std::string launcher() const override { return "fake"; }
  Result<transport::GatheredBytes> AllGather(std::span<const std::byte> mine) override {
    return transport::GatheredBytes(size_, std::vector<std::byte>(mine.begin(), mine.end()));
  }
  Result<std::vector<std::byte>> Broadcast(std::span<const std::byte> data, Rank) override {
    return std::vector<std::byte>(data.begin(), data.end());
  }
  Status Barrier(const std::function<void()>&) override { return Status::Ok(); }
  void Finalize() override {}
  void FinalizeForExit() override {}
  void Abandon() override {}

 private:
  Rank rank_;
  int size_;
  std::vector<std::string> hosts_;
};

SystemConfig Config(std::map<std::string, std::string> overrides = {}) {
  auto config = SystemConfig::Load(overrides);
  EXPECT_TRUE(config.ok());
  return *config;
}

RankBinding Bind(Rank rank, int size, const SystemConfig& config,
                 std::vector<std::string>* warnings) {
  FakeBootstrap bootstrap(rank, size);
  return BindRank(bootstrap, config, warnings);
}

constexpr const char* kEightGpus = PRISM_GPU_TEST_XML_8GPU;

TEST(GpuSlotsTest, WholeGpusAreExclusive) {
  GpuSlots slots({"4", "5", "6", "7"});
  auto a = slots.Acquire(2 * kResourceUnit);
  EXPECT_EQ(slots.IdsOf(a.devices), (std::vector<std::string>{"4", "5"}));
  auto b = slots.Acquire(kResourceUnit);
  EXPECT_EQ(slots.IdsOf(b.devices), (std::vector<std::string>{"6"}));
  slots.Release(a);
  auto c = slots.Acquire(2 * kResourceUnit);
  EXPECT_EQ(slots.IdsOf(c.devices), (std::vector<std::string>{"4", "5"}));
  slots.Release(b);
  slots.Release(c);
  EXPECT_EQ(slots.FreeUnits(), std::vector<int64_t>(4, kResourceUnit));
  EXPECT_TRUE(slots.Acquire(0).devices.empty());
}

TEST(GpuSlotsTest, FractionsPackOntoOneGpuAndShareItsId) {
  GpuSlots slots({"0", "1"});
  auto a = slots.Acquire(kResourceUnit / 2);
  auto b = slots.Acquire(kResourceUnit / 4);
  auto c = slots.Acquire(kResourceUnit / 4);
  EXPECT_EQ(a.devices, std::vector<int>{0});
  EXPECT_EQ(b.devices, std::vector<int>{0});
  EXPECT_EQ(c.devices, std::vector<int>{0});
  // GPU 1 stayed whole for a task that wants a whole one.
  auto whole = slots.Acquire(kResourceUnit);
  EXPECT_EQ(whole.devices, std::vector<int>{1});
  EXPECT_EQ(slots.FreeUnits(), (std::vector<int64_t>{0, 0}));
  slots.Release(a);
  slots.Release(b);
  slots.Release(c);
  slots.Release(whole);
  EXPECT_EQ(slots.FreeUnits(), (std::vector<int64_t>{kResourceUnit, kResourceUnit}));
}

TEST(GpuSlotsTest, FragmentedRequestsShareRatherThanFail) {
  GpuSlots slots({"0", "1"});
  auto a = slots.Acquire(6000);
  auto b = slots.Acquire(6000);
  EXPECT_NE(a.devices, b.devices);  // 0.6 + 0.6 does not fit one GPU
  auto c = slots.Acquire(8000);     // fits the rank's total (0.8), no single GPU
  ASSERT_EQ(c.devices.size(), 1u);
  auto whole = slots.Acquire(kResourceUnit);
  ASSERT_EQ(whole.devices.size(), 1u);
}

TEST(GpuScopeTest, PublishesTheIdsToTheThreadForItsLifetime) {
  GpuSlots slots({"2", "3"});
  EXPECT_EQ(CurrentGpuIds(), nullptr);
  {
    GpuScope scope(slots, kResourceUnit);
    ASSERT_NE(CurrentGpuIds(), nullptr);
    EXPECT_EQ(*CurrentGpuIds(), std::vector<std::string>{"2"});
    std::vector<std::string> elsewhere = {"unset"};
    std::async(std::launch::async, [&] {
      elsewhere = CurrentGpuIds() == nullptr ? std::vector<std::string>{} : *CurrentGpuIds();
    }).get();
    EXPECT_TRUE(elsewhere.empty());  // per thread
    GpuSlots::Holding actor = slots.Acquire(kResourceUnit);
    {
      GpuScope call(slots, actor);  // an actor's lifetime holding: adopted, not released
      EXPECT_EQ(*CurrentGpuIds(), std::vector<std::string>{"3"});
    }
    EXPECT_EQ(*CurrentGpuIds(), std::vector<std::string>{"2"});
    EXPECT_EQ(slots.FreeUnits(), (std::vector<int64_t>{0, 0}));
    slots.Release(actor);
  }
  EXPECT_EQ(CurrentGpuIds(), nullptr);
  EXPECT_EQ(slots.FreeUnits(), (std::vector<int64_t>{kResourceUnit, kResourceUnit}));
}

TEST(BindRankTest, FakeTopologyGivesEachRankItsSocketShareAndNearestGpus) {
  ScopedEnv env({{"HWLOC_XMLFILE", kEightGpus},
                 {"CUDA_VISIBLE_DEVICES", nullptr},
                 {"SLURM_JOB_ID", nullptr},
                 {"SLURM_JOBID", nullptr}});
  std::vector<std::string> warnings;
  RankBinding binding = Bind(3, 4, Config(), &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  EXPECT_EQ(binding.ranks_sharing, 4);
  EXPECT_EQ(binding.index_sharing, 3);
  EXPECT_EQ(binding.cpus.ToString(), "24-31");
  EXPECT_EQ(binding.gpus, (std::vector<std::string>{"6", "7"}));
  EXPECT_FALSE(binding.gpus_bound);
  EXPECT_EQ(binding.gpu_ids, binding.gpus);  // a fake topology is believed
  EXPECT_FALSE(binding.pin);                 // but never bound to
  EXPECT_NE(binding.why_not_pinned.find("HWLOC_XMLFILE"), std::string::npos);
  ASSERT_NE(std::getenv("CUDA_VISIBLE_DEVICES"), nullptr);
  EXPECT_STREQ(std::getenv("CUDA_VISIBLE_DEVICES"), "6,7");
  EXPECT_STREQ(std::getenv("CUDA_DEVICE_ORDER"), "PCI_BUS_ID");
  EXPECT_TRUE(binding.WorkerCpus(4).empty());
  EXPECT_GE(binding.topology_load_ms, 0.0);
}

TEST(BindRankTest, LaunchersCudaVisibleDevicesIsKeptExactly) {
  ScopedEnv env({{"HWLOC_XMLFILE", kEightGpus}, {"CUDA_VISIBLE_DEVICES", "1,3"}});
  std::vector<std::string> warnings;
  RankBinding binding = Bind(0, 2, Config(), &warnings);
  EXPECT_EQ(binding.gpus, (std::vector<std::string>{"1", "3"}));
  EXPECT_TRUE(binding.gpus_bound);
  EXPECT_EQ(binding.cpus.ToString(), "0-15");
  EXPECT_STREQ(std::getenv("CUDA_VISIBLE_DEVICES"), "1,3");
}

TEST(BindRankTest, SlurmStepGpusBecomeCudaVisibleDevices) {
  ScopedEnv env({{"HWLOC_XMLFILE", kEightGpus},
                 {"CUDA_VISIBLE_DEVICES", nullptr},
                 {"SLURM_JOB_ID", "77"},
                 {"SLURM_STEP_GPUS", "2,5"},
                 {"SLURM_JOB_GPUS", "0,1,2,5"}});
  std::vector<std::string> warnings;
  RankBinding binding = Bind(0, 1, Config(), &warnings);
  EXPECT_TRUE(warnings.empty());
  EXPECT_EQ(binding.gpus, (std::vector<std::string>{"2", "5"}));
  EXPECT_TRUE(binding.gpus_bound);
  EXPECT_STREQ(std::getenv("CUDA_VISIBLE_DEVICES"), "2,5");
}

TEST(BindRankTest, MalformedGpuVariablesWarnAndNameTheVariable) {
  ScopedEnv env({{"HWLOC_XMLFILE", kEightGpus}, {"CUDA_VISIBLE_DEVICES", "0,,1"}});
  std::vector<std::string> warnings;
  RankBinding binding = Bind(0, 1, Config(), &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("CUDA_VISIBLE_DEVICES"), std::string::npos) << warnings[0];
  EXPECT_TRUE(binding.gpus.empty());
}

TEST(BindRankTest, NumGpusOverridesTheCount) {
  ScopedEnv env({{"HWLOC_XMLFILE", kEightGpus}, {"CUDA_VISIBLE_DEVICES", "4"}});
  std::vector<std::string> warnings;
  RankBinding binding = Bind(0, 1, Config({{"num_gpus", "3"}}), &warnings);
  EXPECT_EQ(binding.gpu_ids, (std::vector<std::string>{"4", "0", "1"}));
  RankBinding none = Bind(0, 1, Config({{"num_gpus", "0"}}), &warnings);
  EXPECT_TRUE(none.gpu_ids.empty());
}

TEST(BindRankTest, ThisMachineWithoutCudaSchedulesNoGpu) {
  ScopedEnv env({{"HWLOC_XMLFILE", nullptr},
                 {"HWLOC_SYNTHETIC", nullptr},
                 {"CUDA_VISIBLE_DEVICES", "0,1"}});  // e.g. Slurm's fake gres GPUs
  std::vector<std::string> warnings;
  RankBinding binding = Bind(0, 1, Config(), &warnings);
  EXPECT_EQ(binding.gpus, (std::vector<std::string>{"0", "1"}));
  EXPECT_TRUE(binding.gpu_ids.empty());  // cudaGetDeviceCount fails (no driver): no GPU
  EXPECT_FALSE(binding.cpus.empty());
}

TEST(SignalsTest, ParsesNamesAndNumbers) {
  auto list = ParseSignalList("TERM, sigusr1,SIGUSR2, 2,TERM");
  ASSERT_TRUE(list.ok()) << list.error().message;
  EXPECT_EQ(*list, (std::vector<int>{SIGTERM, SIGUSR1, SIGUSR2, SIGINT}));
  ASSERT_TRUE(ParseSignalList("").ok());
  EXPECT_TRUE(ParseSignalList(" ")->empty());
  for (const char* bad : {"TERM,,USR1", "BOGUS", "KILL", "9", "0", "70", "12x"}) {
    auto parsed = ParseSignalList(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("shutdown_signals"), std::string::npos);
  }
  EXPECT_EQ(SignalName(SIGUSR1), "SIGUSR1");
}

TEST(SignalsTest, WatcherCallsBackOnItsOwnThreadAndRestoresHandlers) {
  std::promise<std::pair<int, bool>> got;
  auto caller = std::this_thread::get_id();
  {
    auto watcher = SignalWatcher::Start({SIGUSR2}, [&](int signal) {
      got.set_value({signal, std::this_thread::get_id() != caller});
    });
    ASSERT_TRUE(watcher.ok()) << watcher.error().message;
    EXPECT_FALSE(SignalWatcher::Start({SIGUSR1}, [](int) {}).ok());  // one per process
    raise(SIGUSR2);
    auto future = got.get_future();
    ASSERT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    auto [signal, other_thread] = future.get();
    EXPECT_EQ(signal, SIGUSR2);
    EXPECT_TRUE(other_thread);
  }
  struct sigaction now {};
  sigaction(SIGUSR2, nullptr, &now);
  EXPECT_EQ(now.sa_handler, SIG_DFL);
}

TEST(SessionTest, LauncherJobKeyNamesTheJob) {
  auto env = [](std::map<std::string, std::string> vars) {
    return [vars](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  };
  EXPECT_EQ(LauncherJobKey(env({{"SLURM_JOB_ID", "4242"}, {"SLURM_STEP_ID", "3"}})),
            "slurm-4242.3");
  EXPECT_EQ(LauncherJobKey(env({{"SLURM_JOBID", "17"}})), "slurm-17");
  EXPECT_EQ(LauncherJobKey(env(
                {{"OMPI_MCA_ess_base_jobid", "626327553"}, {"PMIX_NAMESPACE", "prterun-vm-1@1"}})),
            "ompi-626327553");
  EXPECT_EQ(LauncherJobKey(env({{"PMIX_NAMESPACE", "prterun-vm-1@1/x"}})), "pmix-prterun-vm-1_1_x");
  EXPECT_EQ(LauncherJobKey(env({})), "local");
}

TEST(SessionTest, PathIsKeyedByUserAndJobAndSpillGoesWithTheRank) {
  std::string root = testing::TempDir() + "/prism-session-test-" + std::to_string(getpid());
  ScopedEnv env({{"SLURM_JOB_ID", "99"}, {"SLURM_STEP_ID", "0"}});
  JobInfo a = MakeJobInfo(Config({{"session_root", root}}), "");
  JobInfo b = MakeJobInfo(Config({{"session_root", root}}), "");
  EXPECT_NE(a.session_dir, b.session_dir);  // two jobs never share a directory
  EXPECT_EQ(a.session_dir.rfind(UserSessionRoot(root) + "/session_slurm-99.0_", 0), 0u)
      << a.session_dir;
  ASSERT_TRUE(CreateSessionDirectories(a).ok());
  EXPECT_TRUE(std::filesystem::is_directory(a.session_dir + "/logs"));
  std::vector<std::string> dirs = {SpillDir(a, 2)};
  EXPECT_EQ(dirs[0], a.session_dir + "/spill/rank-2");
  EXPECT_EQ(RenameRankDirs(dirs, 2, 0), std::vector<std::string>{a.session_dir + "/spill/rank-0"});
  EXPECT_EQ(RenameRankDirs({"/scratch/prism-ab-rank-12"}, 12, 0),
            std::vector<std::string>{"/scratch/prism-ab-rank-0"});
  std::filesystem::create_directories(dirs[0]);
  std::filesystem::create_directories(SpillDir(a, 3));
  std::ofstream(dirs[0] + "/spill-0.h5") << "bytes";
  RemoveRankFiles(a, dirs);
  EXPECT_FALSE(std::filesystem::exists(dirs[0]));
  EXPECT_TRUE(std::filesystem::exists(SpillDir(a, 3)));  // another rank's
  RemoveRankFiles(a, {SpillDir(a, 3)});
  EXPECT_FALSE(std::filesystem::exists(a.session_dir + "/spill"));
  EXPECT_TRUE(std::filesystem::is_directory(a.session_dir + "/logs"));
  RemoveRankFiles(a, dirs);  // again: harmless
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace prism::runtime

namespace {

int AskForGpus(int) { return static_cast<int>(prism::GetGpuIds().size()); }

/// The GPU ids the task holds, joined by commas, after `ms` (so that tasks overlap).
std::string GpuIdsAfter(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  std::string out;
  for (const std::string& id : prism::GetGpuIds()) out += (out.empty() ? "" : ",") + id;
  return out;
}

}  // namespace

PRISM_REMOTE(AskForGpus, GpuIdsAfter);

namespace {

TEST(GetGpuIdsTest, DriverSeesTheRanksGpusAndChildrenGetThemInTheirEnvironment) {
  EXPECT_THROW(prism::GetGpuIds(), prism::PrismError);
  setenv("HWLOC_XMLFILE", PRISM_GPU_TEST_XML_8GPU, 1);
  unsetenv("CUDA_VISIBLE_DEVICES");
  char arg0[] = "test";
  char arg1[] = "--prism-num_cpus=2";
  char* argv[] = {arg0, arg1, nullptr};
  prism::Init(2, argv);
  unsetenv("HWLOC_XMLFILE");
  auto resources = prism::ClusterResources();
  EXPECT_EQ(resources["GPU"], 8.0);
  std::vector<std::string> all = {"0", "1", "2", "3", "4", "5", "6", "7"};
  EXPECT_EQ(prism::GetGpuIds(), all);
  EXPECT_EQ(prism::GetRuntimeContext().GetGpuIds(), all);
  std::vector<std::string> env = prism::GpuEnvironment();
  EXPECT_EQ(std::count(env.begin(), env.end(), "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7"), 1);
  // A task that asked for no GPU holds none.
  EXPECT_EQ(*prism::Task(AskForGpus).Remote(0).Get(), 0);
  // Two-GPU tasks running at once hold distinct GPUs; four quarter-GPU tasks share one.
  auto a = prism::Task(GpuIdsAfter).SetResource("GPU", 2).Remote(300);
  auto b = prism::Task(GpuIdsAfter).SetResource("GPU", 2).Remote(300);
  std::string ids_a = *a.Get();
  std::string ids_b = *b.Get();
  EXPECT_EQ(std::count(ids_a.begin(), ids_a.end(), ','), 1) << ids_a;
  EXPECT_EQ(std::count(ids_b.begin(), ids_b.end(), ','), 1) << ids_b;
  EXPECT_EQ(ids_a.find(ids_b.substr(0, ids_b.find(','))), std::string::npos)
      << ids_a << " and " << ids_b << " overlap";
  std::vector<prism::ObjectRef<std::string>> quarters;
  for (int i = 0; i < 4; ++i)
    quarters.push_back(prism::Task(GpuIdsAfter).SetResource("GPU", 0.25).Remote(300));
  std::set<std::string> shared;
  for (auto& q : quarters) shared.insert(*q.Get());
  EXPECT_EQ(shared.size(), 1u) << "four 0.25-GPU tasks did not share one GPU";
  EXPECT_EQ(shared.begin()->find(','), std::string::npos);
  prism::Shutdown();
  unsetenv("CUDA_VISIBLE_DEVICES");
  unsetenv("CUDA_DEVICE_ORDER");
}

}  // namespace
