#include "prism/slurm/tasks_per_node.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace prism::slurm {
namespace {

using Counts = std::vector<int>;

TEST(TasksPerNodeTest, ExpandsRepeats) {
  auto counts = ParseTasksPerNode("2(x3),1");
  ASSERT_TRUE(counts.ok()) << counts.error().ToString();
  EXPECT_EQ(*counts, (Counts{2, 2, 2, 1}));
}

TEST(TasksPerNodeTest, SingleCount) {
  auto counts = ParseTasksPerNode("4");
  ASSERT_TRUE(counts.ok()) << counts.error().ToString();
  EXPECT_EQ(*counts, (Counts{4}));
}

TEST(TasksPerNodeTest, MixedListAsInJobCpusPerNode) {
  auto counts = ParseTasksPerNode("64(x2),32,16(x1),8");
  ASSERT_TRUE(counts.ok()) << counts.error().ToString();
  EXPECT_EQ(*counts, (Counts{64, 64, 32, 16, 8}));
}

TEST(TasksPerNodeTest, MalformedValuesNameValueAndPosition) {
  struct Case {
    const char* value;
    const char* why;
    std::size_t position;
  };
  for (const Case& c :
       {Case{"", "empty value", 0}, Case{"2,,1", "empty entry", 2}, Case{"2,", "empty entry", 2},
        Case{"x", "expected a count", 0}, Case{"-1", "expected a count", 0},
        Case{"2(x0)", "repeat", 1}, Case{"2(3)", "repeat", 1}, Case{"2(x3", "repeat", 1},
        Case{"1,2(x)", "repeat", 3}, Case{"2(x3)4", "repeat", 1},
        Case{"99999999999", "expected a count", 0},
        Case{"1(x999999),1(x2)", "more than 1000000 nodes", 11}}) {
    SCOPED_TRACE(c.value);
    auto counts = ParseTasksPerNode(c.value);
    ASSERT_FALSE(counts.ok());
    EXPECT_EQ(counts.error().code, ErrorCode::kInvalidArgument);
    const std::string& message = counts.error().message;
    EXPECT_NE(message.find(std::string("\"") + c.value + "\""), std::string::npos) << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << message;
    EXPECT_NE(message.find("at position " + std::to_string(c.position)), std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace prism::slurm
