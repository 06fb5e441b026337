#include "prism/slurm/hostlist.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace prism::slurm {
namespace {

using Hosts = std::vector<std::string>;

Hosts Expand(std::string_view expression) {
  auto hosts = ExpandHostlist(expression);
  EXPECT_TRUE(hosts.ok()) << hosts.error().ToString();
  return hosts.ok() ? *hosts : Hosts{};
}

TEST(HostlistTest, SingleHost) { EXPECT_EQ(Expand("n1"), (Hosts{"n1"})); }

TEST(HostlistTest, EmptyExpressionHasNoHost) { EXPECT_TRUE(Expand("").empty()); }

TEST(HostlistTest, KeepsZeroPaddingAndSingleNumbers) {
  EXPECT_EQ(Expand("nid[001-004,010]"), (Hosts{"nid001", "nid002", "nid003", "nid004", "nid010"}));
  EXPECT_EQ(Expand("n[007]"), (Hosts{"n007"}));
}

TEST(HostlistTest, UnpaddedRangeGrowsDigits) {
  EXPECT_EQ(Expand("n[8-11]"), (Hosts{"n8", "n9", "n10", "n11"}));
  EXPECT_EQ(Expand("n[08-10]"), (Hosts{"n08", "n09", "n10"}));
}

TEST(HostlistTest, SeveralElements) {
  EXPECT_EQ(Expand("gpu[1-2],login"), (Hosts{"gpu1", "gpu2", "login"}));
  EXPECT_EQ(Expand("a,b[3-4],c[9]"), (Hosts{"a", "b3", "b4", "c9"}));
}

TEST(HostlistTest, SeveralBracketsExpandAsAProductFirstSlowest) {
  EXPECT_EQ(Expand("rack[1-2]-n[01-02]"),
            (Hosts{"rack1-n01", "rack1-n02", "rack2-n01", "rack2-n02"}));
  EXPECT_EQ(Expand("a[1-2]b[3-4]"), (Hosts{"a1b3", "a1b4", "a2b3", "a2b4"}));
  EXPECT_EQ(Expand("x[1,3]y[5]z.ib"), (Hosts{"x1y5z.ib", "x3y5z.ib"}));
}

TEST(HostlistTest, KeepsDuplicatesAndOrder) {
  EXPECT_EQ(Expand("n[3,1],n1"), (Hosts{"n3", "n1", "n1"}));
}

TEST(HostlistTest, LargeButAllowedExpansion) {
  auto hosts = ExpandHostlist("n[1-1000]x[1-1000]");
  ASSERT_TRUE(hosts.ok()) << hosts.error().ToString();
  EXPECT_EQ(hosts->size(), 1'000'000u);
  EXPECT_EQ(hosts->back(), "n1000x1000");
}

struct BadCase {
  const char* expression;
  const char* why;
  std::size_t position;
};

class HostlistErrorTest : public testing::TestWithParam<BadCase> {};

TEST_P(HostlistErrorTest, NamesExpressionProblemAndPosition) {
  const BadCase& c = GetParam();
  auto hosts = ExpandHostlist(c.expression);
  ASSERT_FALSE(hosts.ok());
  const Error& error = hosts.error();
  EXPECT_EQ(error.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(error.message.find(std::string("\"") + c.expression + "\""), std::string::npos)
      << error.message;
  EXPECT_NE(error.message.find(c.why), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("at position " + std::to_string(c.position)), std::string::npos)
      << error.message;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, HostlistErrorTest,
    testing::Values(BadCase{"n[1-", "unbalanced '['", 1}, BadCase{"n1-3]", "unbalanced ']'", 4},
                    BadCase{"n[1-[2]]", "nested '['", 4}, BadCase{"n[5-3]", "descending", 2},
                    BadCase{"a,,b", "empty element", 2}, BadCase{",a", "empty element", 0},
                    BadCase{"a,", "empty element", 2}, BadCase{"n[]", "empty range", 2},
                    BadCase{"n[1,]", "empty range", 4}, BadCase{"n[a-b]", "expected a number", 2},
                    BadCase{"n[1-]", "expected a number", 4},
                    BadCase{"n[1-2-3]", "expected a number", 4}, BadCase{"n1 n2", "whitespace", 2},
                    BadCase{"n[0-999999999999]", "more than 1000000 hosts", 0},
                    BadCase{"a,n[1-1000]x[1-1001]", "more than 1000000 hosts", 2},
                    BadCase{"n[1-9999999999999999999]", "expected a number", 4}));

}  // namespace
}  // namespace prism::slurm
