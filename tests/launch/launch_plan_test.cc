#include "prism/launch/launch_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace prism::launch {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;

using Argv = std::vector<std::string>;

LaunchOptions App(std::vector<std::string> command = {"./app", "32"}) {
  LaunchOptions o;
  o.command = std::move(command);
  return o;
}

// A laptop-like host: 2 CPUs, not root, no Slurm, no wrapper.
LaunchHost Workstation() {
  LaunchHost host;
  host.cpu_count = 2;
  return host;
}

// Inside `salloc -N 2 -n 4` on 8-CPU nodes (ENV.md §7).
LaunchHost InAllocation() {
  LaunchHost host = Workstation();
  slurm::SlurmEnvironment job;
  job.job_id = 42;
  job.nnodes = 2;
  job.ntasks = 4;
  job.job_nodelist = std::vector<std::string>{"n1", "n2"};
  job.tasks_per_node = std::vector<int>{2, 2};
  job.job_cpus_per_node = std::vector<int>{8, 8};
  host.slurm = job;
  return host;
}

Argv PlanOf(const LaunchOptions& o, const LaunchHost& host) {
  auto plan = PlanLaunch(o, host);
  EXPECT_TRUE(plan) << plan.error().message;
  return plan ? plan->argv : Argv{};
}

// The words after `flag`, as far as the next word starting with '-'.
bool HasPair(const Argv& argv, const std::string& flag, const std::string& value) {
  for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == flag && argv[i + 1] == value) return true;
  }
  return false;
}

TEST(LaunchPlanTest, SrunInsideAnAllocation) {
  auto plan = PlanLaunch(App(), InAllocation());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->launcher, LauncherKind::kSrun);
  EXPECT_THAT(plan->argv,
              ElementsAre("srun", "--mpi=pmix", "--cpu-bind=none", "--kill-on-bad-exit=0",
                          "--no-kill", "--quit-on-interrupt", "./app", "32"));
  EXPECT_TRUE(plan->env.empty());
  EXPECT_FALSE(plan->status_dir);
}

TEST(LaunchPlanTest, SrunEveryFlag) {
  LaunchOptions o = App();
  o.ranks = 4;
  o.nodes = 2;
  o.ranks_per_node = 2;
  o.cpus_per_rank = 3;
  o.gpus_per_rank = 1;
  o.head_cpus = 0;
  o.launcher_args = {"--label"};
  auto plan = PlanLaunch(o, InAllocation());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_THAT(plan->argv,
              ElementsAre("srun", "--mpi=pmix", "-n", "4", "-N", "2", "--ntasks-per-node=2", "-c",
                          "3", "--gpus-per-task=1", "--cpu-bind=none", "--kill-on-bad-exit=0",
                          "--no-kill", "--quit-on-interrupt", "--label", "./app", "32"));
  EXPECT_THAT(plan->env, ElementsAre(std::make_pair(std::string("PRISM_NUM_CPUS"), "3"),
                                     std::make_pair(std::string("PRISM_HEAD_CPUS"), "0")));
  EXPECT_FALSE(plan->oversubscribed);
}

TEST(LaunchPlanTest, SrunRanksFromNodesTimesRanksPerNode) {
  LaunchOptions o = App();
  o.nodes = 2;
  o.ranks_per_node = 3;
  EXPECT_TRUE(HasPair(PlanOf(o, InAllocation()), "-n", "6"));
}

TEST(LaunchPlanTest, SrunMpiPlugin) {
  LaunchHost host = InAllocation();
  LaunchOptions o = App();
  o.srun_mpi = "pmix_v4";
  EXPECT_THAT(PlanOf(o, host), Contains("--mpi=pmix_v4"));
  // A site default in SLURM_MPI_TYPE is srun's to apply.
  host.slurm->mpi_type = "pmi2";
  Argv argv = PlanOf(App(), host);
  EXPECT_TRUE(std::none_of(argv.begin(), argv.end(),
                           [](const std::string& a) { return a.rfind("--mpi", 0) == 0; }));
}

TEST(LaunchPlanTest, SrunOvercommitsWhenTheRanksNeedMoreCpusThanAllocated) {
  LaunchOptions o = App();
  o.ranks = 16;
  EXPECT_THAT(PlanOf(o, InAllocation()), Not(Contains("--overcommit")));
  o.ranks = 17;
  EXPECT_THAT(PlanOf(o, InAllocation()), Contains("--overcommit"));
  o.ranks = 4;
  o.cpus_per_rank = 5;
  EXPECT_THAT(PlanOf(o, InAllocation()), Contains("--overcommit"));
  o.cpus_per_rank = 4;
  o.nodes = 1;  // only the first node's 8 CPUs count
  EXPECT_THAT(PlanOf(o, InAllocation()), Contains("--overcommit"));
  LaunchOptions asked = App();
  asked.oversubscribe = true;
  auto plan = PlanLaunch(asked, InAllocation());
  ASSERT_TRUE(plan);
  EXPECT_THAT(plan->argv, Contains("--overcommit"));
  EXPECT_TRUE(plan->oversubscribed);
}

TEST(LaunchPlanTest, SrunIsTheSameForRoot) {
  LaunchHost root = InAllocation();
  root.is_root = true;
  EXPECT_EQ(PlanOf(App(), root), PlanOf(App(), InAllocation()));
}

TEST(LaunchPlanTest, SrunErrorsNameTheFlag) {
  LaunchOptions o = App();
  o.hosts = {"a"};
  auto plan = PlanLaunch(o, InAllocation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--hosts"));

  o = App();
  o.nodes = 3;
  plan = PlanLaunch(o, InAllocation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--nodes 3"));

  o = App();
  o.nodes = 2;
  o.ranks_per_node = 2;
  o.ranks = 5;
  plan = PlanLaunch(o, InAllocation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--ranks 5"));

  o = App();
  o.launcher = LauncherKind::kSrun;
  plan = PlanLaunch(o, Workstation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--launcher=srun"));
}

TEST(LaunchPlanTest, MpirunOutsideAnAllocation) {
  LaunchOptions o = App();
  o.ranks = 2;
  o.recovery = false;
  auto plan = PlanLaunch(o, Workstation());
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->launcher, LauncherKind::kMpirun);
  EXPECT_THAT(plan->argv, ElementsAre("mpirun", "--bind-to", "none", "-n", "2", "./app", "32"));
  EXPECT_FALSE(plan->oversubscribed);
}

TEST(LaunchPlanTest, MpirunAsRootAllowsIt) {
  LaunchHost root = Workstation();
  root.is_root = true;
  Argv argv = PlanOf(App(), root);
  ASSERT_GE(argv.size(), 2U);
  EXPECT_EQ(argv[1], "--allow-run-as-root");
  EXPECT_THAT(PlanOf(App(), Workstation()), Not(Contains("--allow-run-as-root")));
}

TEST(LaunchPlanTest, MpirunOversubscribesWhenTheRanksNeedMoreCpusThanThisHost) {
  LaunchOptions o = App();
  o.ranks = 2;
  EXPECT_THAT(PlanOf(o, Workstation()), Not(Contains("--oversubscribe")));
  o.ranks = 3;
  EXPECT_THAT(PlanOf(o, Workstation()), Contains("--oversubscribe"));
  o.ranks = 2;
  o.cpus_per_rank = 2;
  EXPECT_THAT(PlanOf(o, Workstation()), Contains("--oversubscribe"));
  LaunchOptions asked = App();
  asked.ranks = 1;
  asked.oversubscribe = true;
  EXPECT_THAT(PlanOf(asked, Workstation()), Contains("--oversubscribe"));
}

TEST(LaunchPlanTest, MpirunRecoveryWrapsRankZeroToKeepItsExitStatus) {
  LaunchHost host = Workstation();
  host.self_exe = "/opt/prism/bin/prism";
  host.status_dir = "/tmp/prism-launch.abc";
  auto plan = PlanLaunch(App(), host);
  ASSERT_TRUE(plan);
  EXPECT_THAT(plan->argv, Contains("--enable-recovery"));
  EXPECT_EQ(plan->status_dir, "/tmp/prism-launch.abc");
  Argv tail(plan->argv.end() - 7, plan->argv.end());
  EXPECT_THAT(tail, ElementsAre("/opt/prism/bin/prism", "rank-exec", "--status-dir",
                                "/tmp/prism-launch.abc", "--", "./app", "32"));
  LaunchOptions no = App();
  no.recovery = false;
  plan = PlanLaunch(no, host);
  ASSERT_TRUE(plan);
  EXPECT_THAT(plan->argv, Not(Contains("--enable-recovery")));
  EXPECT_THAT(plan->argv, Not(Contains("rank-exec")));
  EXPECT_FALSE(plan->status_dir);
}

TEST(LaunchPlanTest, MpirunKillWait) {
  LaunchOptions o = App();
  EXPECT_THAT(PlanOf(o, Workstation()), Not(Contains("odls_base_sigkill_timeout")));
  o.kill_wait_s = 30;
  EXPECT_TRUE(HasPair(PlanOf(o, Workstation()), "odls_base_sigkill_timeout", "30"));
}

TEST(LaunchPlanTest, MpirunHostsGetSlots) {
  LaunchOptions o = App();
  o.hosts = {"10.0.0.1", "10.0.0.2", "10.0.0.3"};
  o.ranks = 4;
  Argv argv = PlanOf(o, Workstation());
  EXPECT_TRUE(HasPair(argv, "--host", "10.0.0.1:2,10.0.0.2:2,10.0.0.3:2"));
  EXPECT_TRUE(HasPair(argv, "-n", "4"));
  // Two ranks per 2-CPU host: no oversubscription.
  EXPECT_THAT(argv, Not(Contains("--oversubscribe")));

  o.ranks.reset();
  o.nodes = 2;
  o.ranks_per_node = 3;
  argv = PlanOf(o, Workstation());
  EXPECT_TRUE(HasPair(argv, "--host", "10.0.0.1:3,10.0.0.2:3"));
  EXPECT_TRUE(HasPair(argv, "-n", "6"));
  EXPECT_THAT(argv, Contains("--oversubscribe"));  // 3 ranks on a 2-CPU host
}

TEST(LaunchPlanTest, MpirunForwardsPrismAndUcxVariablesToOtherHosts) {
  LaunchHost host = Workstation();
  host.forwarded_env = {"UCX_TLS", "PRISM_HEAD_CPUS", "PRISM_LOG_LEVEL"};
  LaunchOptions o = App();
  o.head_cpus = 1;
  o.cpus_per_rank = 1;
  auto plan = PlanLaunch(o, host);
  ASSERT_TRUE(plan);
  EXPECT_TRUE(HasPair(plan->argv, "-x", "PRISM_NUM_CPUS"));
  EXPECT_TRUE(HasPair(plan->argv, "-x", "PRISM_HEAD_CPUS"));
  EXPECT_TRUE(HasPair(plan->argv, "-x", "UCX_TLS"));
  EXPECT_TRUE(HasPair(plan->argv, "-x", "PRISM_LOG_LEVEL"));
  EXPECT_EQ(std::count(plan->argv.begin(), plan->argv.end(), "PRISM_HEAD_CPUS"), 1);
  EXPECT_THAT(plan->env, Contains(std::make_pair(std::string("PRISM_HEAD_CPUS"), "1")));
}

TEST(LaunchPlanTest, MpirunInsideAnAllocation) {
  LaunchOptions o = App();
  o.launcher = LauncherKind::kMpirun;
  o.ranks = 4;
  Argv argv = PlanOf(o, InAllocation());
  EXPECT_EQ(argv[0], "mpirun");
  EXPECT_THAT(argv, Not(Contains("--host")));             // mpirun reads the allocation
  EXPECT_THAT(argv, Not(Contains("--oversubscribe")));    // 16 CPUs allocated
  EXPECT_THAT(argv, Not(Contains("--enable-recovery")));  // only on request in an allocation
  o.recovery = true;
  EXPECT_THAT(PlanOf(o, InAllocation()), Contains("--enable-recovery"));
  o.recovery.reset();
  o.nodes = 1;
  o.ranks_per_node = 4;
  argv = PlanOf(o, InAllocation());
  EXPECT_TRUE(HasPair(argv, "--host", "n1:4"));
  o = App();
  o.launcher = LauncherKind::kMpirun;
  o.ranks = 20;
  EXPECT_THAT(PlanOf(o, InAllocation()), Contains("--oversubscribe"));
}

TEST(LaunchPlanTest, MpirunErrorsNameTheFlag) {
  LaunchOptions o = App();
  o.nodes = 2;
  auto plan = PlanLaunch(o, Workstation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--nodes 2"));

  o.hosts = {"a"};
  plan = PlanLaunch(o, Workstation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--nodes 2"));

  o = App();
  o.gpus_per_rank = 1;
  plan = PlanLaunch(o, Workstation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--gpus-per-rank"));

  o = App();
  o.ranks_per_node = 2;
  o.ranks = 3;
  plan = PlanLaunch(o, Workstation());
  ASSERT_FALSE(plan);
  EXPECT_THAT(plan.error().message, ::testing::HasSubstr("--ranks 3"));
}

TEST(LaunchPlanTest, ResourcesReachEveryRankAsPrismResources) {
  LaunchOptions o = App();
  o.resources = "special=1@1;special=2@2-3";
  const std::pair<std::string, std::string> variable("PRISM_RESOURCES",
                                                     "special=1@1;special=2@2-3");
  auto srun = PlanLaunch(o, InAllocation());  // srun passes the environment on
  ASSERT_TRUE(srun) << srun.error().message;
  EXPECT_THAT(srun->env, ElementsAre(variable));
  auto mpirun = PlanLaunch(o, Workstation());  // mpirun only what -x names
  ASSERT_TRUE(mpirun) << mpirun.error().message;
  EXPECT_THAT(mpirun->env, ElementsAre(variable));
  EXPECT_TRUE(HasPair(mpirun->argv, "-x", "PRISM_RESOURCES"));
  EXPECT_THAT(FormatCommand(*mpirun), ::testing::StartsWith("PRISM_RESOURCES='special=1@1;"
                                                            "special=2@2-3' mpirun "));
}

TEST(LaunchPlanTest, FormatCommandQuotesForTheShell) {
  LaunchPlan plan;
  plan.env = {{"PRISM_HEAD_CPUS", "0"}, {"X", "a b"}};
  plan.argv = {"mpirun", "-n", "2", "./app", "it's", "", "$HOME", "a,b:c/d.e"};
  EXPECT_EQ(FormatCommand(plan),
            "PRISM_HEAD_CPUS=0 X='a b' mpirun -n 2 ./app 'it'\\''s' '' '$HOME' a,b:c/d.e");
}

}  // namespace
}  // namespace prism::launch
