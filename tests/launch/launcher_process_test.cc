#include "prism/launch/launcher_process.h"

#include <gtest/gtest.h>

#include <csignal>

namespace prism::launch {
namespace {

TEST(LauncherProcessTest, ReturnsTheExitCode) {
  auto status = RunLauncher({"/bin/sh", "-c", "exit 3"}, {});
  ASSERT_TRUE(status) << status.error().message;
  EXPECT_EQ(*status, 3);
}

TEST(LauncherProcessTest, DeathBySignalIs128PlusN) {
  auto status = RunLauncher({"/bin/sh", "-c", "kill -9 $$"}, {});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 137);
}

TEST(LauncherProcessTest, SetsTheEnvironment) {
  auto status =
      RunLauncher({"sh", "-c", "test \"$PRISM_HEAD_CPUS\" = 0.5"}, {{"PRISM_HEAD_CPUS", "0.5"}});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
}

TEST(LauncherProcessTest, RunsInItsOwnProcessGroup) {
  // Field 5 of /proc/<pid>/stat is the process group; in its own group it equals the pid ($$).
  auto status = RunLauncher({"sh", "-c", "set -- $(cat /proc/$$/stat); test \"$5\" = \"$$\""}, {});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
  // And this process's group is not the child's.
  status = RunLauncher({"sh", "-c", "set -- $(cat /proc/$PPID/stat); test \"$5\" != \"$$\""}, {});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 0);
}

TEST(LauncherProcessTest, ForwardsSignalsToTheGroup) {
  // The child signals its parent (this process); the forwarded SIGUSR1 ends it with 7, through
  // its trap, only if it reaches the child's group. A forwarded signal that never arrived
  // would leave the shell waiting until `sleep` ends (a failure: exit 1).
  auto status = RunLauncher({"sh", "-c",
                             "trap 'exit 7' USR1; kill -USR1 $PPID; i=0; "
                             "while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; exit 1"},
                            {});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 7);
}

TEST(LauncherProcessTest, AMissingProgramIsNotFound) {
  auto status = RunLauncher({"/nonexistent/srun", "x"}, {});
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kNotFound);
  EXPECT_NE(status.error().message.find("/nonexistent/srun"), std::string::npos);
}

TEST(LauncherProcessTest, ShellStatus) {
  EXPECT_EQ(ShellStatus(0), 0);
  EXPECT_EQ(ShellStatus(2 << 8), 2);
  EXPECT_EQ(ShellStatus(SIGTERM), 143);
}

}  // namespace
}  // namespace prism::launch
