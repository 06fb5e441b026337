#include "prism/common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <variant>

namespace prism {
namespace {

Result<int> ParseDigit(char c) {
  if (c < '0' || c > '9')
    return MakeError(ErrorCode::kInvalidArgument, std::string("not a digit: ") + c);
  return c - '0';
}

// Propagates the error of an inner call, as the header's example does.
Result<int> SumOfDigits(char a, char b) {
  auto x = ParseDigit(a);
  if (!x) return x.error();
  auto y = ParseDigit(b);
  if (!y) return y.error();
  return *x + *y;
}

TEST(ResultTest, HoldsValue) {
  Result<int> r = 42;
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
}

TEST(ResultTest, HoldsError) {
  Result<int> r = MakeError(ErrorCode::kNotFound, "obj 1:2.0 is gone");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message, "obj 1:2.0 is gone");
}

TEST(ResultTest, ValueOfAnErrorThrowsInsteadOfReturningGarbage) {
  Result<int> r = MakeError(ErrorCode::kTimeout, "late");
  EXPECT_THROW(static_cast<void>(r.value()), std::bad_variant_access);
}

TEST(ResultTest, ArrowAndMutationReachTheValue) {
  Result<std::string> r = std::string("abc");
  EXPECT_EQ(r->size(), 3u);
  r->push_back('d');
  *r += "e";
  EXPECT_EQ(*r, "abcde");
  const Result<std::string>& cr = r;
  EXPECT_EQ(cr->front(), 'a');
  EXPECT_EQ(*cr, "abcde");
}

TEST(ResultTest, MoveOnlyValueCanBeMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
  Result<std::unique_ptr<int>> r2 = std::make_unique<int>(8);
  std::unique_ptr<int> q = *std::move(r2);
  EXPECT_EQ(*q, 8);
}

TEST(ResultTest, ErrorsPropagateThroughCallers) {
  auto good = SumOfDigits('3', '4');
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 7);
  auto bad = SumOfDigits('3', 'x');
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "not a digit: x");
}

TEST(ResultTest, CopiesAreIndependent) {
  Result<std::string> a = std::string("one");
  Result<std::string> b = a;
  *b = "two";
  EXPECT_EQ(*a, "one");
  EXPECT_EQ(*b, "two");
}

TEST(StatusTest, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(static_cast<bool>(s));
  EXPECT_EQ(s.code(), ErrorCode::kOk);
  EXPECT_EQ(s.ToString(), "ok");
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().code(), ErrorCode::kOk);
}

TEST(StatusTest, CarriesError) {
  Status s = MakeError(ErrorCode::kPeerDead, "rank 3 died");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(static_cast<bool>(s));
  EXPECT_EQ(s.code(), ErrorCode::kPeerDead);
  EXPECT_EQ(s.error().message, "rank 3 died");
  EXPECT_EQ(s.ToString(), "peer dead: rank 3 died");
}

TEST(StatusTest, ConvertsToResultError) {
  Status s = MakeError(ErrorCode::kIoError, "disk");
  Result<int> r = s.error();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIoError);
  EXPECT_EQ(r.error().message, "disk");
}

TEST(ErrorTest, ToStringIsCodeNameColonMessage) {
  EXPECT_EQ(MakeError(ErrorCode::kTimeout, "Get(obj 0:12) waited 1000 ms").ToString(),
            "timeout: Get(obj 0:12) waited 1000 ms");
  EXPECT_EQ(MakeError(ErrorCode::kIoError, "x").ToString(), "I/O error: x");
  Error default_error;
  EXPECT_EQ(default_error.code, ErrorCode::kInternal);
}

TEST(ErrorTest, EveryCodeHasItsOwnName) {
  std::set<std::string> names;
  int count = 0;
  for (int c = 0; c <= static_cast<int>(ErrorCode::kCancelled); ++c) {
    std::string name = ErrorCodeName(static_cast<ErrorCode>(c));
    EXPECT_NE(name, "unknown") << "code " << c;
    EXPECT_FALSE(name.empty()) << "code " << c;
    names.insert(name);
    ++count;
  }
  EXPECT_EQ(names.size(), static_cast<size_t>(count));
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kOk), "ok");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kNotFound), "not found");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kPeerDead), "peer dead");
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kResourceExhausted), "resource exhausted");
}

TEST(ErrorTest, OutOfRangeCodeIsUnknown) {
  EXPECT_STREQ(ErrorCodeName(static_cast<ErrorCode>(200)), "unknown");
}

}  // namespace
}  // namespace prism
