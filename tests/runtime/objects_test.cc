// Put, Get, GetSpan and serialization of user types.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <fstream>
#include <map>
#include <string>

#include "test_functions.h"

namespace prism_test {
namespace {

struct Particle {
  std::string name;
  std::vector<double> position;
  int charge = 0;
  MSGPACK_DEFINE(name, position, charge)
  friend bool operator==(const Particle&, const Particle&) = default;
};

TEST(ObjectTest, PutThenGetReturnsAnEqualCopy) {
  auto ref = prism::Put(std::string("hello"));
  EXPECT_EQ(*ref.Get(), "hello");
  auto copy = ref.Get();
  *copy = "changed";  // a private copy: the object is immutable
  EXPECT_EQ(*ref.Get(), "hello");
}

TEST(ObjectTest, UserTypesWithMsgpackDefineRoundTrip) {
  Particle p{"electron", {1.0, 2.0, 3.0}, -1};
  EXPECT_EQ(*prism::Put(p).Get(), p);
  std::map<std::string, std::vector<int>> m{{"a", {1, 2}}, {"b", {}}};
  EXPECT_EQ(*prism::Put(m).Get(), m);
}

TEST(ObjectTest, GetOfAVectorOfRefsKeepsOrder) {
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 100; ++i) refs.push_back(prism::Put(i));
  auto values = prism::Get(refs);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*values[i], i);
}

TEST(ObjectTest, GetSpanReadsWithoutCopying) {
  auto ref = prism::Put(Iota(1 << 20));
  auto a = prism::GetSpan(ref);
  auto b = prism::GetSpan(ref);
  ASSERT_EQ(a.size(), 1u << 20);
  EXPECT_EQ(a.data(), b.data());  // both views point into the one stored copy
  EXPECT_EQ(a[12345], 12345.0);
}

TEST(ObjectTest, GetSpanOfARemoteObjectPullsItOnce) {
  auto ref = prism::Task(Iota).Remote(int64_t{1} << 20);
  auto a = prism::GetSpan(ref);
  auto b = prism::GetSpan(ref);
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a[(1 << 20) - 1], static_cast<double>((1 << 20) - 1));
}

TEST(ObjectTest, RefsNestedInsideObjectsStayReferences) {
  std::vector<prism::ObjectRef<int>> inner{prism::Put(1), prism::Put(2)};
  auto outer = prism::Put(inner);
  auto back = outer.Get();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ(*(*back)[0].Get() + *(*back)[1].Get(), 3);
}

TEST(ObjectTest, GetWithTimeoutThrowsWhenLate) {
  auto slow = prism::Task(SleepMs).Remote(2000);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(slow.Get(50), prism::GetTimeoutError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  EXPECT_EQ(*slow.Get(10'000), 2000);
}

TEST(ObjectTest, NilRefCannotBeRead) {
  prism::ObjectRef<int> nil;
  EXPECT_TRUE(nil.IsNil());
  EXPECT_THROW(nil.Get(), prism::PrismError);
}

long ResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST(ObjectTest, ManyPutGetReleaseCyclesKeepMemoryBounded) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP()
      << "AddressSanitizer keeps freed memory in quarantine, so resident memory says nothing";
#endif
  // 2000 objects of 128 KiB: 256 MiB if they were kept. Every object is freed when its last
  // reference goes, so resident memory grows by far less.
  long before = ResidentKiB();
  for (int i = 0; i < 2000; ++i) {
    auto ref = prism::Put(std::vector<double>(16 * 1024, i));
    ASSERT_EQ((*ref.Get())[0], i);
  }
  long after = ResidentKiB();
  ASSERT_GT(before, 0);
  EXPECT_LT(after - before, 64 * 1024)
      << "resident memory grew from " << before << " to " << after << " KiB";
}

}  // namespace
}  // namespace prism_test
