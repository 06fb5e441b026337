// The runtime context seen by the driver and by tasks.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <filesystem>

#include "test_functions.h"

namespace prism_test {
namespace {

std::string TaskIdHere(int) { return prism::GetRuntimeContext().GetTaskId(); }
std::string JobIdHere(int) { return prism::GetRuntimeContext().GetJobId(); }
std::string NamespaceHere(int) { return prism::GetNamespace(); }

}  // namespace
}  // namespace prism_test

using prism_test::JobIdHere;
using prism_test::NamespaceHere;
using prism_test::TaskIdHere;
PRISM_REMOTE(TaskIdHere, JobIdHere, NamespaceHere);

namespace prism_test {
namespace {

TEST(RuntimeContextTest, DriverIsRankZeroOfTheJob) {
  auto ctx = prism::GetRuntimeContext();
  EXPECT_TRUE(prism::IsInitialized());
  EXPECT_EQ(ctx.GetRank(), 0);
  EXPECT_GE(ctx.GetWorldSize(), 1);
  EXPECT_EQ(ctx.GetJobId().size(), 16u);
  EXPECT_EQ(ctx.GetNodeId().size(), 32u);
  EXPECT_FALSE(ctx.GetHostname().empty());
  EXPECT_TRUE(std::filesystem::is_directory(ctx.GetSessionDir() + "/logs"));
}

TEST(RuntimeContextTest, TasksSeeTheJobAndTheirOwnTaskId) {
  auto ctx = prism::GetRuntimeContext();
  auto a = prism::Task(TaskIdHere).Remote(1);
  auto b = prism::Task(TaskIdHere).Remote(2);
  EXPECT_NE(*a.Get(), *b.Get());
  EXPECT_NE(*a.Get(), ctx.GetTaskId());
  EXPECT_EQ(*prism::Task(JobIdHere).Remote(0).Get(), ctx.GetJobId());
  EXPECT_EQ(*prism::Task(NamespaceHere).Remote(0).Get(), prism::GetNamespace());
}

TEST(RuntimeContextTest, AnonymousNamespaceIsAUuid) {
  std::string ns = prism::GetNamespace();
  EXPECT_EQ(ns.size(), 36u) << ns;
  EXPECT_EQ(ns[14], '4') << ns;
}

}  // namespace
}  // namespace prism_test
