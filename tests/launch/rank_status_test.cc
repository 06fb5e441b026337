#include "prism/launch/rank_status.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "prism/launch/launcher_process.h"

namespace prism::launch {
namespace {

class RankStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/prism-rank-status-test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RankStatusTest, AbsentFileIsUnknown) {
  auto status = ReadRankZeroStatus(dir_);
  ASSERT_TRUE(status);
  EXPECT_FALSE(*status);
}

TEST_F(RankStatusTest, ExitCodeRoundTrips) {
  ASSERT_TRUE(WriteRankZeroStatus(dir_, 3 << 8));  // a wait status for exit(3)
  auto status = ReadRankZeroStatus(dir_);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 3);
}

TEST_F(RankStatusTest, SignalBecomes128PlusN) {
  ASSERT_TRUE(WriteRankZeroStatus(dir_, 9));  // a wait status for death by SIGKILL
  auto status = ReadRankZeroStatus(dir_);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 137);
}

TEST_F(RankStatusTest, MalformedFileIsAnError) {
  for (const char* text : {"exit", "exit -1", "quit 3", "exit 3 4", "signal 300"}) {
    std::ofstream(dir_ + "/rank-0.status") << text << "\n";
    auto status = ReadRankZeroStatus(dir_);
    ASSERT_FALSE(status) << text;
    EXPECT_EQ(status.error().code, ErrorCode::kMalformed);
    EXPECT_NE(status.error().message.find("rank-0.status"), std::string::npos);
  }
}

TEST_F(RankStatusTest, RankExecReportsRankZeroAndReturnsLikeTheProgram) {
  setenv("OMPI_COMM_WORLD_RANK", "0", 1);
  EXPECT_EQ(RunRankExec({dir_, {"/bin/sh", "-c", "exit 5"}}), 5);
  auto status = ReadRankZeroStatus(dir_);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 5);
  // Another rank leaves the file alone.
  setenv("OMPI_COMM_WORLD_RANK", "1", 1);
  EXPECT_EQ(RunRankExec({dir_, {"/bin/sh", "-c", "exit 6"}}), 5 + 1);
  status = ReadRankZeroStatus(dir_);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 5);
  unsetenv("OMPI_COMM_WORLD_RANK");
}

TEST_F(RankStatusTest, RankExecDiesOfTheProgramsSignal) {
  // In a child, so that the wrapper's own death by the signal can be observed.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv("OMPI_COMM_WORLD_RANK", "0", 1);
    _exit(RunRankExec({dir_, {"/bin/sh", "-c", "kill -USR2 $$"}}));
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(pid, &wait_status, 0), pid);
  EXPECT_EQ(ShellStatus(wait_status), 128 + SIGUSR2);
  auto status = ReadRankZeroStatus(dir_);
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 128 + SIGUSR2);
}

TEST_F(RankStatusTest, RankExecOfAMissingProgramIs127) {
  EXPECT_EQ(RunRankExec({dir_, {"/nonexistent/program"}}), 127);
}

}  // namespace
}  // namespace prism::launch
