#include "prism/objstore/object_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

namespace prism::objstore {
namespace {

std::shared_ptr<ObjectBuffer> Buffer(size_t size, uint8_t fill = 0) {
  auto buffer = ObjectBuffer::Create(nullptr, size, {});
  if (size != 0) std::memset(buffer->mutable_data(), fill, size);
  return buffer;
}

ObjectId Id(uint64_t seq, Rank owner = 0) { return ObjectId::ForPut(owner, seq); }

ObjectStore StoreWithBudget(size_t budget) {
  ObjectStoreOptions options;
  options.secondary_budget_bytes = budget;
  return ObjectStore(options);
}

TEST(ObjectStoreTest, AddFindRemove) {
  ObjectStore store({});
  auto buffer = Buffer(10, 1);
  EXPECT_EQ(store.Find(Id(1)), nullptr);
  EXPECT_FALSE(store.Contains(Id(1)));
  EXPECT_TRUE(store.Add(Id(1), buffer, CopyKind::kPrimary));
  EXPECT_EQ(store.Find(Id(1)), buffer);
  EXPECT_TRUE(store.Contains(Id(1)));
  EXPECT_FALSE(store.Contains(Id(2)));
  EXPECT_FALSE(store.Contains(ObjectId::ForReturn(TaskId{0, 1}, 1)))
      << "another index of the same seq";
  EXPECT_TRUE(store.Remove(Id(1)));
  EXPECT_EQ(store.Find(Id(1)), nullptr);
  EXPECT_FALSE(store.Remove(Id(1)));
}

TEST(ObjectStoreTest, AStoredObjectIsNotReplaced) {
  ObjectStore store({});
  auto first = Buffer(10, 1);
  EXPECT_TRUE(store.Add(Id(1), first, CopyKind::kPrimary));
  EXPECT_TRUE(store.Add(Id(1), Buffer(10, 2), CopyKind::kPrimary));
  EXPECT_TRUE(store.Add(Id(1), Buffer(10, 3), CopyKind::kSecondary));
  EXPECT_EQ(store.Find(Id(1)), first);
  EXPECT_EQ(store.stats().objects, 1u);
  EXPECT_EQ(store.stats().primary_bytes, 10u);
  EXPECT_EQ(store.stats().secondary_bytes, 0u);
}

TEST(ObjectStoreTest, StatsSeparatePrimaryAndSecondaryBytes) {
  ObjectStore store({});
  EXPECT_TRUE(store.Add(Id(1), Buffer(100), CopyKind::kPrimary));
  EXPECT_TRUE(store.Add(Id(2), Buffer(30), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(3), Buffer(7), CopyKind::kSecondary));
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.objects, 3u);
  EXPECT_EQ(s.primary_bytes, 100u);
  EXPECT_EQ(s.secondary_bytes, 37u);
  EXPECT_EQ(s.evicted, 0u);
  EXPECT_TRUE(store.Remove(Id(2)));
  EXPECT_TRUE(store.Remove(Id(1)));
  s = store.stats();
  EXPECT_EQ(s.objects, 1u);
  EXPECT_EQ(s.primary_bytes, 0u);
  EXPECT_EQ(s.secondary_bytes, 7u);
  EXPECT_EQ(s.evicted, 0u) << "Remove is not an eviction";
}

TEST(ObjectStoreTest, RemoveSecondaryKeepsAPrimaryCopy) {
  ObjectStore store({});
  EXPECT_TRUE(store.Add(Id(1), Buffer(100), CopyKind::kPrimary));
  EXPECT_TRUE(store.Add(Id(2), Buffer(30), CopyKind::kSecondary));
  EXPECT_FALSE(store.RemoveSecondary(Id(1)));
  EXPECT_TRUE(store.RemoveSecondary(Id(2)));
  EXPECT_FALSE(store.RemoveSecondary(Id(3)));
  EXPECT_TRUE(store.Contains(Id(1)));
  EXPECT_FALSE(store.Contains(Id(2)));
  EXPECT_EQ(store.stats().secondary_bytes, 0u);
  EXPECT_EQ(store.stats().primary_bytes, 100u);
}

TEST(ObjectStoreTest, PrimaryAddPromotesASecondaryCopy) {
  ObjectStore store({});
  auto pulled = Buffer(40);
  EXPECT_TRUE(store.Add(Id(1), pulled, CopyKind::kSecondary));
  EXPECT_EQ(store.stats().secondary_bytes, 40u);
  EXPECT_TRUE(store.Add(Id(1), Buffer(40), CopyKind::kPrimary));
  EXPECT_EQ(store.Find(Id(1)), pulled) << "promotion keeps the stored copy";
  EXPECT_EQ(store.stats().objects, 1u);
  EXPECT_EQ(store.stats().secondary_bytes, 0u);
  EXPECT_EQ(store.stats().primary_bytes, 40u);
  EXPECT_TRUE(store.Remove(Id(1)));
  EXPECT_EQ(store.stats().primary_bytes, 0u);
}

TEST(ObjectStoreTest, SecondaryBudgetEvictsOldestSecondaryFirst) {
  ObjectStore store = StoreWithBudget(100);
  EXPECT_TRUE(store.Add(Id(1), Buffer(40), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(2), Buffer(40), CopyKind::kSecondary));
  EXPECT_EQ(store.stats().evicted, 0u);
  EXPECT_TRUE(store.Add(Id(3), Buffer(40), CopyKind::kSecondary));  // 120 > 100: the oldest goes
  EXPECT_FALSE(store.Contains(Id(1)));
  EXPECT_TRUE(store.Contains(Id(2)));
  EXPECT_TRUE(store.Contains(Id(3)));
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_EQ(s.objects, 2u);
  EXPECT_EQ(s.secondary_bytes, 80u);
}

TEST(ObjectStoreTest, SecondaryBudgetIsInclusive) {
  ObjectStore store = StoreWithBudget(100);
  EXPECT_TRUE(store.Add(Id(1), Buffer(50), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(2), Buffer(50), CopyKind::kSecondary));
  EXPECT_EQ(store.stats().evicted, 0u);
  EXPECT_EQ(store.stats().secondary_bytes, 100u);
}

TEST(ObjectStoreTest, PrimariesAreNeverEvictedNorCountedAgainstTheBudget) {
  ObjectStore store = StoreWithBudget(100);
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(store.Add(Id(i), Buffer(60), CopyKind::kPrimary));
  EXPECT_TRUE(store.Add(Id(100), Buffer(60), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(101), Buffer(60),
                        CopyKind::kSecondary));  // 120 > 100: a secondary goes, never a primary
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(store.Contains(Id(i))) << i;
  EXPECT_FALSE(store.Contains(Id(100)));
  EXPECT_TRUE(store.Contains(Id(101)));
  EXPECT_EQ(store.stats().primary_bytes, 600u);
  EXPECT_EQ(store.stats().evicted, 1u);
}

TEST(ObjectStoreTest, APromotedCopyIsNoLongerEvictable) {
  ObjectStore store = StoreWithBudget(100);
  EXPECT_TRUE(store.Add(Id(1), Buffer(40), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(2), Buffer(40), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(1), Buffer(40),
                        CopyKind::kPrimary));  // promoted, but still queued as the oldest secondary
  EXPECT_TRUE(store.Add(Id(3), Buffer(40), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(4), Buffer(40), CopyKind::kSecondary));  // 2 + 3 + 4 = 120 > 100
  EXPECT_TRUE(store.Contains(Id(1)));
  EXPECT_FALSE(store.Contains(Id(2)));
  EXPECT_TRUE(store.Contains(Id(3)));
  EXPECT_TRUE(store.Contains(Id(4)));
  EXPECT_EQ(store.stats().evicted, 1u);
  EXPECT_EQ(store.stats().secondary_bytes, 80u);
  EXPECT_EQ(store.stats().primary_bytes, 40u);
}

TEST(ObjectStoreTest, RemovedSecondariesDoNotConfuseEviction) {
  ObjectStore store = StoreWithBudget(100);
  EXPECT_TRUE(store.Add(Id(1), Buffer(40), CopyKind::kSecondary));
  EXPECT_TRUE(store.Add(Id(2), Buffer(40), CopyKind::kSecondary));
  EXPECT_TRUE(store.Remove(Id(1)));
  EXPECT_TRUE(store.Add(Id(1), Buffer(40), CopyKind::kSecondary));  // back, now the newest
  EXPECT_TRUE(
      store.Add(Id(3), Buffer(40), CopyKind::kSecondary));  // 120 > 100: 2 is the oldest live copy
  EXPECT_FALSE(store.Contains(Id(2)));
  EXPECT_TRUE(store.Contains(Id(1)));
  EXPECT_TRUE(store.Contains(Id(3)));
  EXPECT_EQ(store.stats().evicted, 1u);
  EXPECT_EQ(store.stats().secondary_bytes, 80u);
}

TEST(ObjectStoreTest, ManyAddsAndRemovesKeepTheBooksStraight) {
  ObjectStore store = StoreWithBudget(1000);
  for (uint64_t i = 0; i < 5000; ++i) {
    EXPECT_TRUE(store.Add(Id(i), Buffer(10), CopyKind::kSecondary));
    if (i % 2 == 0) {
      EXPECT_TRUE(store.Remove(Id(i)));
    }
  }
  ObjectStore::Stats s = store.stats();
  // 2500 copies of 10 bytes remained after the removals, and the budget keeps 100 of them.
  EXPECT_EQ(s.secondary_bytes, 1000u);
  EXPECT_EQ(s.objects, 100u);
  EXPECT_EQ(s.evicted, 2400u);
  for (uint64_t i = 4801; i < 5000; i += 2) EXPECT_TRUE(store.Contains(Id(i))) << i;
  EXPECT_FALSE(store.Contains(Id(4799)));
}

TEST(ObjectStoreTest, AnObjectLargerThanTheBudgetIsNotKeptAsSecondary) {
  ObjectStore store = StoreWithBudget(100);
  EXPECT_TRUE(store.Add(Id(1), Buffer(150), CopyKind::kSecondary));
  EXPECT_FALSE(store.Contains(Id(1)));
  EXPECT_EQ(store.stats().evicted, 1u);
  EXPECT_EQ(store.stats().secondary_bytes, 0u);
}

TEST(ObjectStoreTest, ConcurrentAddsAndFindsOnManyShards) {
  ObjectStore store({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, t] {
      for (uint64_t i = 0; i < 2000; ++i) {
        ObjectId id = Id(i, t);
        EXPECT_TRUE(
            store.Add(id, Buffer(8), i % 3 == 0 ? CopyKind::kPrimary : CopyKind::kSecondary));
        EXPECT_TRUE(store.Contains(id));
        if (i % 4 == 0) {
          EXPECT_TRUE(store.Remove(id));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ObjectStore::Stats s = store.stats();
  EXPECT_EQ(s.objects, 4u * 1500u);
  EXPECT_EQ(s.primary_bytes + s.secondary_bytes, 8u * 4u * 1500u);
  EXPECT_EQ(s.evicted, 0u);
}

// Add and Remove of one id racing each other, while other copies come and go well inside the
// budget: nothing may ever be evicted, and the counters never show more than was stored.
TEST(ObjectStoreTest, RacingAddAndRemoveOfOneObjectNeverEvictsOthers) {
  constexpr size_t kBudget = 1 << 20;
  ObjectStore store = StoreWithBudget(kBudget);
  for (uint64_t i = 0; i < 64; ++i)
    EXPECT_TRUE(store.Add(Id(1000 + i), Buffer(16), CopyKind::kSecondary));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> absurd_stats{0};
  auto racer = [&](bool adder) {
    // Larger than all other copies together: a removal booked before its add shows up as a
    // wrapped counter.
    auto buffer = Buffer(4096);
    for (int i = 0; i < 1000000 && !stop.load(); ++i) {
      if (adder) {
        EXPECT_TRUE(store.Add(Id(1), buffer, CopyKind::kSecondary));
      } else {
        store.Remove(Id(1));
      }
    }
  };
  std::thread adder(racer, true);
  std::thread remover(racer, false);
  std::thread churn([&] {
    auto buffer = Buffer(16);
    for (uint64_t i = 0; !stop.load(); ++i) {
      EXPECT_TRUE(store.Add(Id(2000 + i % 64), buffer, CopyKind::kSecondary));
      store.Remove(Id(2000 + (i + 32) % 64));
      ObjectStore::Stats s = store.stats();
      if (s.objects > 1000 || s.secondary_bytes > kBudget) ++absurd_stats;
    }
  });
  adder.join();
  remover.join();
  stop = true;
  churn.join();
  EXPECT_EQ(store.stats().evicted, 0u);
  EXPECT_EQ(absurd_stats.load(), 0u) << "stats() showed counters that wrapped below zero";
  int lost = 0;
  for (uint64_t i = 0; i < 64; ++i) lost += store.Contains(Id(1000 + i)) ? 0 : 1;
  EXPECT_EQ(lost, 0) << "copies evicted although the store held far less than its budget";
}

}  // namespace
}  // namespace prism::objstore
