// Errors: task exceptions re-thrown at the caller, propagation through dependencies, misuse.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include "test_functions.h"

namespace prism_test {
namespace {

int NotRegistered(int x) { return x; }

TEST(TaskErrorTest, ExceptionIsRethrownWithFunctionRankAndMessage) {
  auto ref = prism::Task(Checked).Remote(-5);
  try {
    ref.Get();
    FAIL() << "expected prism::TaskError";
  } catch (const prism::TaskError& e) {
    EXPECT_EQ(e.function(), "Checked");
    EXPECT_GE(e.rank(), 0);
    EXPECT_LT(e.rank(), prism::GetRuntimeContext().GetWorldSize());
    EXPECT_EQ(e.message(), "negative input -5");
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
    EXPECT_NE(std::string(e.what()).find("negative input -5"), std::string::npos);
  }
}

TEST(TaskErrorTest, FailedArgumentFailsTheDependentTask) {
  auto bad = prism::Task(Checked).Remote(-1);
  auto dependent = prism::Task(Checked).Remote(prism::Task(Identity).Remote(bad));
  EXPECT_THROW(dependent.Get(), prism::TaskError);
}

TEST(TaskErrorTest, OtherTasksKeepWorkingAfterAFailure) {
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = -10; i < 10; ++i) refs.push_back(prism::Task(Checked).Remote(i));
  int failed = 0;
  for (int i = 0; i < 20; ++i) {
    try {
      EXPECT_EQ(*refs[i].Get(), i - 10);
    } catch (const prism::TaskError&) {
      ++failed;
    }
  }
  EXPECT_EQ(failed, 10);
}

TEST(MisuseTest, UnregisteredFunctionIsRejectedAtTheCall) {
  try {
    prism::Task(NotRegistered);
    FAIL() << "expected prism::PrismError";
  } catch (const prism::PrismError& e) {
    EXPECT_NE(std::string(e.what()).find("PRISM_REMOTE"), std::string::npos) << e.what();
  }
}

TEST(MisuseTest, InvalidResourceAmountIsRejected) {
  EXPECT_THROW(prism::Task(Identity).SetResource("CPU", 1.5).Remote(1), prism::PrismError);
  EXPECT_THROW(prism::Task(Identity).SetResource("CPU", -1).Remote(1), prism::PrismError);
}

TEST(MisuseTest, ResourceNoRankHasFailsFastNamingIt) {
  auto ref = prism::Task(Identity).SetResource("quantum_annealer", 1).Remote(1);
  try {
    ref.Get(10'000);
    FAIL() << "expected prism::TaskUnschedulableError";
  } catch (const prism::TaskUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("quantum_annealer"), std::string::npos) << e.what();
  }
}

TEST(MisuseTest, InitTwiceIsAnError) { EXPECT_THROW(prism::Init(), prism::PrismError); }

}  // namespace
}  // namespace prism_test
