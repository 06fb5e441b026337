// Distributed reference counting (FEATURES.md OBJ-08..16): an object lives while any rank holds
// it (a handle, a pending task's argument, a ref nested inside another object, a borrow) and is
// freed everywhere once nothing does. Observed through prism::MemorySummary.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <chrono>
#include <functional>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "test_functions.h"

namespace lifetime_test {

inline constexpr size_t kBlobElements = (size_t{1} << 20) / sizeof(double);
using Blob = std::vector<double>;
using BlobRef = prism::ObjectRef<Blob>;

Blob MakeBlob(double seed, size_t n) {
  Blob b(n);
  std::iota(b.begin(), b.end(), seed);
  return b;
}
double SumOf(const Blob& b) { return std::accumulate(b.begin(), b.end(), 0.0); }

/// Keeps refs it was given (nested in its arguments) until told to drop them.
class Holder {
 public:
  int Keep(std::vector<BlobRef> refs) {
    for (auto& r : refs) kept_.push_back(std::move(r));
    return static_cast<int>(kept_.size());
  }
  /// Hands what it keeps to `other` (nested in the call's arguments).
  int PassTo(prism::ActorHandle<Holder> other) {
    return *other.Task(&Holder::Keep).Remote(kept_).Get();
  }
  double Sum() {
    double s = 0;
    for (auto& r : kept_) s += SumOf(*r.Get());
    return s;
  }
  int Drop() {
    kept_.clear();
    return 0;
  }
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }

 private:
  std::vector<BlobRef> kept_;
};

Holder* NewHolder() { return new Holder(); }

/// Sleeps, then reads the refs nested in its argument.
double SumLater(std::vector<BlobRef> refs, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  double s = 0;
  for (auto& r : refs) s += SumOf(*r.Get());
  return s;
}

/// Puts a blob on the executing rank and returns it nested in a vector.
std::vector<BlobRef> PutNested(double seed, int64_t n) {
  return {prism::Put(MakeBlob(seed, static_cast<size_t>(n)))};
}

double SumBlob(Blob b) { return SumOf(b); }

/// 1 MiB whose every element is the rank that made it.
Blob MadeHere(int) {
  return Blob(kBlobElements, static_cast<double>(prism::GetRuntimeContext().GetRank()));
}
/// {rank that made the argument, rank running this task}.
std::vector<int> WhereRun(Blob b) {
  return {static_cast<int>(b[0]), prism::GetRuntimeContext().GetRank()};
}

}  // namespace lifetime_test

PRISM_REMOTE(lifetime_test::NewHolder, &lifetime_test::Holder::Keep, &lifetime_test::Holder::PassTo,
             &lifetime_test::Holder::Sum, &lifetime_test::Holder::Drop,
             &lifetime_test::Holder::Rank, lifetime_test::SumLater, lifetime_test::PutNested,
             lifetime_test::SumBlob, lifetime_test::MadeHere, lifetime_test::WhereRun);

namespace lifetime_test {
namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kBlob = kMiB / sizeof(double);  // 1 MiB of doubles

int World() { return prism::GetRuntimeContext().GetWorldSize(); }

/// Polls `done` for up to `seconds`; frees travel as messages, so they take a moment.
bool Eventually(const std::function<bool()>& done, double seconds = 10) {
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

uint64_t PrimaryBytes(int rank) {
  for (const auto& m : prism::MemorySummary().ranks)
    if (m.rank == rank) return m.store_primary_bytes;
  return 0;
}

/// Holders on distinct ranks other than the driver's, as many as the job allows.
std::vector<prism::ActorHandle<Holder>> HoldersOnOtherRanks(int wanted) {
  std::vector<prism::ActorHandle<Holder>> all;
  std::vector<prism::ActorHandle<Holder>> chosen;
  std::set<int> ranks;
  for (int i = 0; i < 4 * World() && static_cast<int>(chosen.size()) < wanted; ++i) {
    auto h = prism::Actor(NewHolder).Remote();
    int rank = *h.Task(&Holder::Rank).Remote().Get();
    all.push_back(h);
    if (rank != 0 && ranks.insert(rank).second) chosen.push_back(h);
  }
  return chosen;
}

TEST(ObjectLifetimeTest, MemorySummaryReportsEveryRank) {
  prism::MemorySummaryReport report = prism::MemorySummary();
  EXPECT_EQ(static_cast<int>(report.ranks.size()), World());
  EXPECT_TRUE(report.missing_ranks.empty());
  auto ref = prism::Put(MakeBlob(0, kBlob));
  report = prism::MemorySummary();
  EXPECT_GE(report.ranks[0].store_primary_bytes, kMiB);
  EXPECT_GE(report.ranks[0].local_reference, 1u);
  EXPECT_GT(report.ranks[0].rss_bytes, 0u);
  std::string text = report.ToString();
  EXPECT_NE(text.find("LOCAL_REF"), std::string::npos) << text;
  EXPECT_NE(text.find("Aggregate object store stats"), std::string::npos) << text;
}

TEST(ObjectLifetimeTest, RefNestedInAPutObjectLivesAsLongAsTheOuterObject) {
  uint64_t base = PrimaryBytes(0);
  prism::ObjectRef<std::vector<BlobRef>> outer;
  {
    BlobRef inner = prism::Put(MakeBlob(1, kBlob));
    outer = prism::Put(std::vector<BlobRef>{inner});
  }  // the inner handle is gone; the outer object holds the inner one
  auto nested = outer.Get();
  EXPECT_EQ(SumOf(*(*nested)[0].Get()), SumOf(MakeBlob(1, kBlob)));
  nested.reset();
  EXPECT_GE(PrimaryBytes(0), base + kMiB);
  outer = {};
  EXPECT_TRUE(Eventually([&] { return PrimaryBytes(0) < base + kMiB / 2; }))
      << "store use " << PrimaryBytes(0) << " B, was " << base << " B before";
}

TEST(ObjectLifetimeTest, NestedArgumentSurvivesTheCallersHandle) {
  uint64_t base = PrimaryBytes(0);
  prism::ObjectRef<double> sum;
  {
    BlobRef blob = prism::Put(MakeBlob(2, kBlob));
    sum = prism::Task(SumLater).Remote(std::vector<BlobRef>{blob}, 200);
  }  // only the pending task holds the blob now
  EXPECT_EQ(*sum.Get(), SumOf(MakeBlob(2, kBlob)));
  EXPECT_TRUE(Eventually([&] { return PrimaryBytes(0) < base + kMiB / 2; }))
      << "the argument was not freed after the task";
}

TEST(ObjectLifetimeTest, RefReturnedFromARemoteTaskIsFreedOnItsOwner) {
  if (World() < 2) GTEST_SKIP() << "needs a second rank";
  std::vector<uint64_t> base;
  for (const auto& m : prism::MemorySummary().ranks) base.push_back(m.owned_objects);
  {
    auto nested = prism::Task(PutNested).Remote(3.0, static_cast<int64_t>(kBlob)).Get();
    ASSERT_EQ(nested->size(), 1u);
    EXPECT_EQ(SumOf(*(*nested)[0].Get()), SumOf(MakeBlob(3, kBlob)));
  }
  // The blob's owner is the rank that ran the task; every rank returns to its baseline.
  EXPECT_TRUE(Eventually([&] {
    auto ranks = prism::MemorySummary().ranks;
    for (size_t r = 0; r < ranks.size(); ++r)
      if (ranks[r].owned_objects > base[r]) return false;
    return true;
  })) << prism::MemorySummary().ToString();
}

TEST(ObjectLifetimeTest, BorrowerChainAcrossThreeRanksFreesAfterTheLastBorrower) {
  auto holders = HoldersOnOtherRanks(2);
  if (holders.size() < 2) GTEST_SKIP() << "needs two ranks besides the driver";
  auto& a = holders[0];
  auto& b = holders[1];
  uint64_t base = PrimaryBytes(0);
  double expected = SumOf(MakeBlob(4, kBlob));
  {
    BlobRef blob = prism::Put(MakeBlob(4, kBlob));
    EXPECT_EQ(*a.Task(&Holder::Keep).Remote(std::vector<BlobRef>{blob}).Get(), 1);
    EXPECT_EQ(*a.Task(&Holder::PassTo).Remote(b).Get(), 1);  // a -> b: a borrower of a borrower
  }  // the driver (the owner) holds no handle any more
  EXPECT_GE(PrimaryBytes(0), base + kMiB) << "freed while two ranks still borrow it";
  EXPECT_EQ(*a.Task(&Holder::Drop).Remote().Get(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_GE(PrimaryBytes(0), base + kMiB) << "freed while the last rank still borrows it";
  EXPECT_EQ(*b.Task(&Holder::Sum).Remote().Get(), expected);
  EXPECT_EQ(*b.Task(&Holder::Drop).Remote().Get(), 0);
  EXPECT_TRUE(Eventually([&] { return PrimaryBytes(0) < base + kMiB / 2; }))
      << prism::MemorySummary().ToString();
}

TEST(ObjectLifetimeTest, PutGetReleaseCyclesKeepMemoryBounded) {
  uint64_t base_store = PrimaryBytes(0);
  Blob value = MakeBlob(5, kBlob);
  uint64_t rss_start = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto ref = prism::Put(value);
    auto back = ref.Get();
    ASSERT_EQ((*back)[kBlob - 1], value[kBlob - 1]);
    if (i == 500) rss_start = prism::MemorySummary().ranks[0].rss_bytes;
  }
  uint64_t rss_end = prism::MemorySummary().ranks[0].rss_bytes;
  EXPECT_LE(PrimaryBytes(0), base_store);
  // 9 500 MiB went through the store; what stays resident is pool caches, not objects.
  EXPECT_LT(rss_end, rss_start + 256 * kMiB) << "RSS grew from " << rss_start << " to " << rss_end;
}

TEST(ObjectLifetimeTest, RemoteResultsReadAndReleasedKeepEveryStoreBounded) {
  if (World() < 2) GTEST_SKIP() << "needs a second rank";
  std::vector<uint64_t> base;
  for (const auto& m : prism::MemorySummary().ranks)
    base.push_back(m.store_primary_bytes + m.store_secondary_bytes);
  for (int i = 0; i < 300; ++i) {
    auto ref = prism::Task(prism_test::Large).Remote(i);  // 1 MiB, stays where it was made
    ASSERT_EQ((*ref.Get())[1], static_cast<double>(i));
  }
  EXPECT_TRUE(Eventually([&] {
    auto ranks = prism::MemorySummary().ranks;
    for (size_t r = 0; r < ranks.size(); ++r)
      if (ranks[r].store_primary_bytes > base[r] + kMiB) return false;
    return true;
  })) << prism::MemorySummary().ToString();
}

TEST(ObjectLifetimeTest, ConcurrentReadersOfOneObjectAllSeeIt) {
  BlobRef blob = prism::Put(MakeBlob(6, 8 * kBlob));
  double expected = SumOf(MakeBlob(6, 8 * kBlob));
  std::vector<prism::ObjectRef<double>> sums;
  for (int i = 0; i < 4 * World(); ++i) sums.push_back(prism::Task(SumBlob).Remote(blob));
  for (auto& s : sums) EXPECT_EQ(*s.Get(), expected);
}

TEST(ObjectLifetimeTest, TaskRunsWhereItsLargeArgumentLives) {
  if (World() < 2) GTEST_SKIP() << "needs a second rank";
  int moved = 0;
  for (int i = 0; i < 12; ++i) {
    auto blob = prism::Task(MadeHere).Remote(i);  // 1 MiB: stays on the rank that made it
    prism::Wait(std::vector{blob}, 1, 30'000);
    auto where = *prism::Task(WhereRun).Remote(blob).Get();
    if (where[0] != where[1]) ++moved;
  }
  EXPECT_EQ(moved, 0) << "tasks ran away from their 1 MiB argument on an idle cluster";
}

}  // namespace
}  // namespace lifetime_test
