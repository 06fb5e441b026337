#include "prism/launch/launch_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace prism::launch {
namespace {

Result<CommandLine> Parse(std::vector<std::string> args) { return ParseCommandLine(args); }

TEST(LaunchOptionsTest, NoArgumentsOrHelpAsksForTheMainHelp) {
  for (auto args : {std::vector<std::string>{}, {"--help"}, {"-h"}, {"help"}}) {
    auto line = Parse(args);
    ASSERT_TRUE(line) << line.error().message;
    EXPECT_EQ(line->kind, CommandLine::Kind::kHelp);
  }
  EXPECT_NE(MainHelp().find("prism launch"), std::string::npos);
}

TEST(LaunchOptionsTest, LaunchHelp) {
  auto line = Parse({"launch", "--help"});
  ASSERT_TRUE(line);
  EXPECT_EQ(line->kind, CommandLine::Kind::kLaunchHelp);
  for (const char* flag : {"--ranks", "--nodes", "--ranks-per-node", "--cpus-per-rank",
                           "--gpus-per-rank", "--head-cpus", "--dry-run", "--oversubscribe"}) {
    EXPECT_NE(LaunchHelp().find(flag), std::string::npos) << flag;
  }
}

TEST(LaunchOptionsTest, EveryFlag) {
  auto line = Parse({"launch",
                     "-n",
                     "8",
                     "--nodes",
                     "2",
                     "--ranks-per-node",
                     "4",
                     "--cpus-per-rank",
                     "3",
                     "--gpus-per-rank",
                     "1",
                     "--head-cpus",
                     "0.5",
                     "--hosts",
                     "a,b",
                     "--hosts",
                     "c",
                     "--launcher",
                     "mpirun",
                     "--mpi",
                     "pmix_v4",
                     "--oversubscribe",
                     "--no-recovery",
                     "--kill-wait",
                     "3",
                     "--launcher-arg",
                     "--tag-output",
                     "--dry-run",
                     "--",
                     "./app",
                     "-x",
                     "--y"});
  ASSERT_TRUE(line) << line.error().message;
  ASSERT_EQ(line->kind, CommandLine::Kind::kLaunch);
  const LaunchOptions& o = line->launch;
  EXPECT_EQ(o.ranks, 8);
  EXPECT_EQ(o.nodes, 2);
  EXPECT_EQ(o.ranks_per_node, 4);
  EXPECT_EQ(o.cpus_per_rank, 3);
  EXPECT_EQ(o.gpus_per_rank, 1);
  EXPECT_EQ(o.head_cpus, 0.5);
  EXPECT_EQ(o.hosts, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(o.launcher, LauncherKind::kMpirun);
  EXPECT_EQ(o.srun_mpi, "pmix_v4");
  EXPECT_TRUE(o.oversubscribe);
  EXPECT_EQ(o.recovery, false);
  EXPECT_EQ(o.kill_wait_s, 3);
  EXPECT_EQ(o.launcher_args, (std::vector<std::string>{"--tag-output"}));
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.command, (std::vector<std::string>{"./app", "-x", "--y"}));
}

TEST(LaunchOptionsTest, DefaultsLeaveTheChoiceToTheLauncher) {
  auto line = Parse({"launch", "./app", "32", "100"});
  ASSERT_TRUE(line) << line.error().message;
  const LaunchOptions& o = line->launch;
  EXPECT_FALSE(o.ranks);
  EXPECT_FALSE(o.nodes);
  EXPECT_FALSE(o.cpus_per_rank);
  EXPECT_EQ(o.launcher, LauncherKind::kAuto);
  EXPECT_FALSE(o.recovery);
  EXPECT_FALSE(o.dry_run);
  EXPECT_FALSE(o.kill_wait_s);
  EXPECT_EQ(o.command, (std::vector<std::string>{"./app", "32", "100"}));
}

TEST(LaunchOptionsTest, ShortFlags) {
  auto line = Parse({"launch", "-n4", "-N", "2", "--", "app"});
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(line->launch.ranks, 4);
  EXPECT_EQ(line->launch.nodes, 2);
}

// Each malformed command line gives an error that names the flag.
TEST(LaunchOptionsTest, BadFlagsNameTheFlag) {
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  std::vector<Case> cases = {
      {{"launch", "-n", "0", "--", "a"}, "--ranks"},
      {{"launch", "-n", "abc", "--", "a"}, "--ranks"},
      {{"launch", "-n", "--", "a"}, "--ranks"},
      {{"launch", "-n", "2", "-n", "3", "--", "a"}, "--ranks"},
      {{"launch", "--nodes", "-1", "--", "a"}, "--nodes"},
      {{"launch", "--ranks-per-node", "0", "--", "a"}, "--ranks-per-node"},
      {{"launch", "--cpus-per-rank", "0", "--", "a"}, "--cpus-per-rank"},
      {{"launch", "--gpus-per-rank", "-2", "--", "a"}, "--gpus-per-rank"},
      {{"launch", "--head-cpus", "-1", "--", "a"}, "--head-cpus"},
      {{"launch", "--head-cpus", "x", "--", "a"}, "--head-cpus"},
      {{"launch", "--hosts", "a,,b", "--", "a"}, "--hosts"},
      {{"launch", "--launcher", "ssh", "--", "a"}, "--launcher"},
      {{"launch", "--mpi", "", "--", "a"}, "--mpi"},
      {{"launch", "--kill-wait", "-1", "--", "a"}, "--kill-wait"},
      {{"launch", "--resources", " ", "--", "a"}, "--resources"},
      {{"launch", "--resources", "a=1\nb=2", "--", "a"}, "--resources"},
      {{"launch", "--resources", "--", "a"}, "--resources"},
      {{"launch", "--bogus", "--", "a"}, "--bogus"},
      {{"launch", "./app", "--its-flag"}, "--its-flag"},
      {{"launch", "--recovery", "--no-recovery", "--", "a"}, "--recovery"},
      {{"launch", "-n", "2"}, "no program"},
      {{"launch", "-n", "2", "--"}, "no program"},
      {{"lunch"}, "unknown command 'lunch'"},
      {{"rank-exec", "./app"}, "rank-exec"},
  };
  for (const Case& c : cases) {
    auto line = Parse(c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    ASSERT_FALSE(line) << joined;
    EXPECT_EQ(line.error().code, ErrorCode::kInvalidArgument) << joined;
    EXPECT_NE(line.error().message.find(c.names), std::string::npos)
        << joined << "-> " << line.error().message;
  }
}

TEST(LaunchOptionsTest, ResourcesFlagKeepsTheSpecAsWritten) {
  auto line = Parse({"launch", "-n", "4", "--resources", "special=1@1;special=2@2-3", "--", "a"});
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(line->launch.resources, "special=1@1;special=2@2-3");
  line = Parse({"launch", "--resources={\"special_hardware\": 1}", "a"});
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(line->launch.resources, "{\"special_hardware\": 1}");
  EXPECT_FALSE(Parse({"launch", "a"})->launch.resources);
}

TEST(LaunchOptionsTest, RankExec) {
  auto line = Parse({"rank-exec", "--status-dir", "/tmp/d", "--", "./app", "1"});
  ASSERT_TRUE(line) << line.error().message;
  EXPECT_EQ(line->kind, CommandLine::Kind::kRankExec);
  EXPECT_EQ(line->rank_exec.status_dir, "/tmp/d");
  EXPECT_EQ(line->rank_exec.command, (std::vector<std::string>{"./app", "1"}));
}

}  // namespace
}  // namespace prism::launch
