#include "prism/gpu/cpu_set.h"

#include <gtest/gtest.h>

#include <string>

namespace prism::gpu {
namespace {

TEST(CpuSetTest, PrintsRangesInListForm) {
  EXPECT_EQ(CpuSet({8, 3, 0, 1, 2, 2}).ToString(), "0-3,8");
  EXPECT_EQ(CpuSet({5}).ToString(), "5");
  EXPECT_EQ(CpuSet({1, 3, 5, 6}).ToString(), "1,3,5-6");
  EXPECT_EQ(CpuSet().ToString(), "");
}

TEST(CpuSetTest, ParseRoundTrips) {
  for (const char* text : {"0-3,8", "5", "1,3,5-6", "", "0-1023"}) {
    SCOPED_TRACE(text);
    auto set = CpuSet::Parse(text);
    ASSERT_TRUE(set.ok()) << set.error().ToString();
    EXPECT_EQ(set->ToString(), text);
  }
  EXPECT_EQ(CpuSet::Parse("3,0-2,2").value(), CpuSet({0, 1, 2, 3}));
}

TEST(CpuSetTest, ParseRejectsMalformedLists) {
  for (const char* text : {"0,,1", "0,", "a", "3-1", "-1", "1-", "0-2-4", "0x3", "2000000"}) {
    SCOPED_TRACE(text);
    auto set = CpuSet::Parse(text);
    ASSERT_FALSE(set.ok());
    EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(set.error().message.find(text), std::string::npos) << set.error().message;
  }
}

TEST(CpuSetTest, SetOperations) {
  CpuSet a({0, 1, 2, 3});
  CpuSet b({2, 3, 4});
  EXPECT_EQ(a.Intersection(b), CpuSet({2, 3}));
  EXPECT_EQ(a.Union(b), CpuSet({0, 1, 2, 3, 4}));
  EXPECT_TRUE(a.Intersects(b));
  EXPECT_FALSE(a.Intersects(CpuSet({7})));
  EXPECT_TRUE(CpuSet({1, 2}).IsSubsetOf(a));
  EXPECT_FALSE(b.IsSubsetOf(a));
  EXPECT_TRUE(a.Contains(3));
  EXPECT_FALSE(a.Contains(4));
  EXPECT_EQ(a.size(), 4);
  EXPECT_TRUE(CpuSet().empty());
}

}  // namespace
}  // namespace prism::gpu
