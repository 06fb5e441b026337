// UserSessionRoot: the per-user folder of session directories.

#include "prism/common/session_root.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace prism {
namespace {

TEST(SessionRootTest, AGivenRootGetsAPerUserFolder) {
  std::string dir = UserSessionRoot("/scratch/sessions");
  EXPECT_EQ(dir.rfind("/scratch/sessions/prism-", 0), 0u) << dir;
  EXPECT_GT(dir.size(), std::string("/scratch/sessions/prism-").size()) << "no user name";
}

TEST(SessionRootTest, AnEmptyRootMeansTmpdirThenTmp) {
  const char* saved = std::getenv("TMPDIR");
  std::string old = saved != nullptr ? saved : "";
  setenv("TMPDIR", "/var/tmp/job7", 1);
  EXPECT_EQ(UserSessionRoot("").rfind("/var/tmp/job7/prism-", 0), 0u);
  unsetenv("TMPDIR");
  EXPECT_EQ(UserSessionRoot("").rfind("/tmp/prism-", 0), 0u);
  if (saved != nullptr) setenv("TMPDIR", old.c_str(), 1);
}

}  // namespace
}  // namespace prism
