#include "prism/slurm/environment.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace prism::slurm {
namespace {

using Env = std::map<std::string, std::string>;

// A getenv over a map, as FromEnvironment takes it.
std::function<const char*(const char*)> FakeGetenv(const Env& env) {
  return [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

// What `srun -N 3 -n 4 --gres=gpu:2` sets on the first node (ENV.md section 7).
Env SrunStep() {
  return {{"SLURM_JOB_ID", "4242"},
          {"SLURM_STEP_ID", "0"},
          {"SLURM_PROCID", "1"},
          {"SLURM_LOCALID", "1"},
          {"SLURM_NODEID", "0"},
          {"SLURM_NTASKS", "4"},
          {"SLURM_NNODES", "3"},
          {"SLURM_CPUS_ON_NODE", "8"},
          {"SLURM_JOB_NODELIST", "n[1-3]"},
          {"SLURM_STEP_NODELIST", "n[1-3]"},
          {"SLURM_TASKS_PER_NODE", "2,1(x2)"},
          {"SLURM_JOB_CPUS_PER_NODE", "8(x3)"},
          {"SLURM_MEM_PER_NODE", "4000"},
          {"SLURM_STEP_GPUS", "0,1"},
          {"CUDA_VISIBLE_DEVICES", "0,1"},
          {"SLURM_GPUS_ON_NODE", "2"},
          {"SLURMD_NODENAME", "n1"},
          {"SLURM_CLUSTER_NAME", "local"},
          {"SLURM_JOB_PARTITION", "debug"},
          {"SLURM_SUBMIT_DIR", "/work/job"}};
}

TEST(SlurmEnvironmentTest, NotInsideSlurmIsNullopt) {
  Env env{{"HOME", "/root"}, {"SLURM_PROCID", "3"}};
  auto slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
  ASSERT_TRUE(slurm.ok()) << slurm.error().ToString();
  EXPECT_FALSE(slurm->has_value());
}

TEST(SlurmEnvironmentTest, ParsesAnSrunStep) {
  Env env = SrunStep();
  auto slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
  ASSERT_TRUE(slurm.ok()) << slurm.error().ToString();
  ASSERT_TRUE(slurm->has_value());
  const SlurmEnvironment& s = **slurm;
  EXPECT_EQ(s.job_id, 4242u);
  EXPECT_EQ(s.step_id, 0u);
  EXPECT_EQ(s.procid, 1);
  EXPECT_EQ(s.localid, 1);
  EXPECT_EQ(s.nodeid, 0);
  EXPECT_EQ(s.ntasks, 4);
  EXPECT_EQ(s.nnodes, 3);
  EXPECT_FALSE(s.cpus_per_task.has_value());  // Only set with -c.
  EXPECT_EQ(s.cpus_on_node, 8);
  EXPECT_EQ(s.job_nodelist, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(s.step_nodelist, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(s.tasks_per_node, (std::vector<int>{2, 1, 1}));
  EXPECT_EQ(s.job_cpus_per_node, (std::vector<int>{8, 8, 8}));
  EXPECT_FALSE(s.mem_per_cpu_mb.has_value());
  EXPECT_EQ(s.mem_per_node_mb, 4000u);
  EXPECT_EQ(s.step_gpus, (std::vector<int>{0, 1}));
  EXPECT_FALSE(s.job_gpus.has_value());
  EXPECT_EQ(s.cuda_visible_devices, "0,1");
  EXPECT_EQ(s.gpus_on_node, 2);
  EXPECT_EQ(s.node_name, "n1");
  EXPECT_EQ(s.cluster_name, "local");
  EXPECT_EQ(s.partition, "debug");
  EXPECT_EQ(s.submit_dir, "/work/job");
}

TEST(SlurmEnvironmentTest, BatchScriptWithOnlyTheJobVariables) {
  Env env{{"SLURM_JOB_ID", "7"},         {"SLURM_NTASKS", "4"},        {"SLURM_JOB_NODELIST", "vm"},
          {"SLURM_TASKS_PER_NODE", "4"}, {"SLURM_CPUS_PER_TASK", "2"}, {"SLURM_JOB_GPUS", "0-1,3"},
          {"CUDA_VISIBLE_DEVICES", ""}};
  auto slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
  ASSERT_TRUE(slurm.ok()) << slurm.error().ToString();
  ASSERT_TRUE(slurm->has_value());
  const SlurmEnvironment& s = **slurm;
  EXPECT_EQ(s.job_id, 7u);
  EXPECT_FALSE(s.step_id.has_value());
  EXPECT_FALSE(s.procid.has_value());
  EXPECT_EQ(s.cpus_per_task, 2);
  EXPECT_EQ(s.job_nodelist, (std::vector<std::string>{"vm"}));
  EXPECT_EQ(s.tasks_per_node, (std::vector<int>{4}));
  EXPECT_EQ(s.job_gpus, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(s.cuda_visible_devices, "");  // Set but empty: no GPU, not "unset".
  EXPECT_FALSE(s.step_nodelist.has_value());
}

TEST(SlurmEnvironmentTest, ReadsTheOldVariableNames) {
  Env env{{"SLURM_JOBID", "99"},
          {"SLURM_STEPID", "3"},
          {"SLURM_NPROCS", "8"},
          {"SLURM_JOB_NUM_NODES", "2"},
          {"SLURM_NODELIST", "c[01-02]"}};
  auto slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
  ASSERT_TRUE(slurm.ok()) << slurm.error().ToString();
  ASSERT_TRUE(slurm->has_value());
  const SlurmEnvironment& s = **slurm;
  EXPECT_EQ(s.job_id, 99u);
  EXPECT_EQ(s.step_id, 3u);
  EXPECT_EQ(s.ntasks, 8);
  EXPECT_EQ(s.nnodes, 2);
  EXPECT_EQ(s.job_nodelist, (std::vector<std::string>{"c01", "c02"}));
}

TEST(SlurmEnvironmentTest, MalformedVariablesNameVariableAndValue) {
  struct Case {
    const char* name;
    const char* value;
    const char* detail;  // Part of the message beyond NAME="value".
  };
  for (const Case& c :
       {Case{"SLURM_NTASKS", "abc", "integer"},
        Case{"SLURM_JOB_NODELIST", "n[1-", "unbalanced '['"},
        Case{"SLURM_STEP_NODELIST", "", "no host"}, Case{"SLURM_TASKS_PER_NODE", "2(x", "repeat"},
        Case{"SLURM_JOB_CPUS_PER_NODE", "", "empty value"}, Case{"SLURM_PROCID", "-1", "integer"},
        Case{"SLURM_LOCALID", "", "integer"}, Case{"SLURM_CPUS_PER_TASK", "4096000000", "integer"},
        Case{"SLURM_MEM_PER_CPU", "4G", "integer"},
        Case{"SLURM_STEP_GPUS", "0,,1", "bad index entry"},
        Case{"SLURM_JOB_GPUS", "3-1", "bad index entry"}, Case{"SLURM_JOB_ID", "12.5", "integer"},
        Case{"SLURM_GPUS_PER_TASK", "tesla:", "count"},
        Case{"SLURM_GPUS_PER_TASK", ":2", "empty type"},
        Case{"SLURM_NTASKS_PER_NODE", "x", "integer"},
        Case{"SLURM_STEP_NUM_TASKS", "-4", "integer"},
        Case{"SLURM_STEP_TASKS_PER_NODE", "2(x0)", "repeat"}}) {
    SCOPED_TRACE(c.name);
    Env env = SrunStep();
    env[c.name] = c.value;
    auto slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
    ASSERT_FALSE(slurm.ok());
    EXPECT_EQ(slurm.error().code, ErrorCode::kInvalidArgument);
    const std::string& message = slurm.error().message;
    EXPECT_NE(message.find(std::string(c.name) + "=\"" + c.value + "\""), std::string::npos)
        << message;
    EXPECT_NE(message.find(c.detail), std::string::npos) << message;
  }
}

// What `srun -N 2 --ntasks-per-node=2 -c 2 --gpus-per-task=tesla:1` adds inside an
// allocation whose SLURM_MPI_TYPE is pmix.
TEST(SlurmEnvironmentTest, ParsesThePerTaskRequestsOfAStep) {
  Env env = SrunStep();
  env["SLURM_CPUS_PER_TASK"] = "2";
  env["SLURM_GPUS_PER_TASK"] = "tesla:1";
  env["SLURM_NTASKS_PER_NODE"] = "2";
  env["SLURM_STEP_NUM_TASKS"] = "4";
  env["SLURM_STEP_TASKS_PER_NODE"] = "2(x2)";
  env["SLURM_MPI_TYPE"] = "pmix";
  auto slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
  ASSERT_TRUE(slurm.ok()) << slurm.error().message;
  const SlurmEnvironment& s = **slurm;
  EXPECT_EQ(s.cpus_per_task, 2);
  EXPECT_EQ(s.gpus_per_task, 1);
  EXPECT_EQ(s.ntasks_per_node, 2);
  EXPECT_EQ(s.step_num_tasks, 4);
  EXPECT_EQ(s.step_tasks_per_node, (std::vector<int>{2, 2}));
  EXPECT_EQ(s.mpi_type, "pmix");
  env["SLURM_GPUS_PER_TASK"] = "3";
  slurm = SlurmEnvironment::FromEnvironment(FakeGetenv(env));
  ASSERT_TRUE(slurm.ok());
  EXPECT_EQ((*slurm)->gpus_per_task, 3);
}

TEST(SlurmEnvironmentTest, DefaultGetenvReadsTheProcessEnvironment) {
  auto slurm = SlurmEnvironment::FromEnvironment();
  if (std::getenv("SLURM_JOB_ID") == nullptr && std::getenv("SLURM_JOBID") == nullptr) {
    ASSERT_TRUE(slurm.ok()) << slurm.error().ToString();
    EXPECT_FALSE(slurm->has_value());
  } else if (slurm.ok()) {
    EXPECT_TRUE(slurm->has_value());
  }
}

}  // namespace
}  // namespace prism::slurm
