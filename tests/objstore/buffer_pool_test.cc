#include "prism/objstore/buffer_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace prism::objstore {
namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
constexpr size_t kKiB = 1024;
constexpr size_t kMiB = 1024 * 1024;

size_t RoundUpToPage(size_t n) { return (n + kPage - 1) / kPage * kPage; }

TEST(BufferPoolTest, ClassCapacityOfKnownSizes) {
  EXPECT_EQ(BufferPool::ClassCapacity(0), kPage);
  EXPECT_EQ(BufferPool::ClassCapacity(1), kPage);
  EXPECT_EQ(BufferPool::ClassCapacity(5000), RoundUpToPage(5120));
  EXPECT_EQ(BufferPool::ClassCapacity(64 * kKiB), 64 * kKiB);
  EXPECT_EQ(BufferPool::ClassCapacity(64 * kKiB + 1), 80 * kKiB);
  EXPECT_EQ(BufferPool::ClassCapacity(100000), 112 * kKiB);
  EXPECT_EQ(BufferPool::ClassCapacity(kMiB), kMiB);
  EXPECT_EQ(BufferPool::ClassCapacity(kMiB + 1), kMiB + kMiB / 4);
  EXPECT_EQ(BufferPool::ClassCapacity(64 * kMiB - 1), 64 * kMiB);
}

TEST(BufferPoolTest, ClassCapacityFitsWithAtMostAQuarterOfSlack) {
  size_t previous = 0;
  for (size_t size = 1; size < 256 * kMiB; size += size / 7 + 13) {
    size_t capacity = BufferPool::ClassCapacity(size);
    EXPECT_GE(capacity, size) << size;
    EXPECT_EQ(capacity % kPage, 0u) << size;
    EXPECT_LE(capacity, RoundUpToPage(size + size / 4)) << size;
    EXPECT_GE(capacity, previous) << "not monotonic at " << size;
    previous = capacity;
  }
}

TEST(BufferPoolTest, FourClassesPerPowerOfTwo) {
  for (size_t power = 16 * kKiB; power <= 64 * kMiB; power *= 2) {
    std::set<size_t> classes;
    for (size_t size = power + 1; size <= 2 * power; size += power / 64)
      classes.insert(BufferPool::ClassCapacity(size));
    classes.insert(BufferPool::ClassCapacity(2 * power));
    EXPECT_EQ(classes.size(), 4u) << "sizes in (" << power << ", " << 2 * power << "]";
  }
}

TEST(BufferPoolTest, LargeBlocksArePageAlignedAndOfTheirClass) {
  auto pool = BufferPool::Create({});
  Block* block = pool->Allocate(100000);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->capacity(), BufferPool::ClassCapacity(100000));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block->data()) % kPage, 0u);
  std::memset(block->data(), 0xab, block->capacity());  // all of it is writable
  EXPECT_EQ(pool->stats().allocated_bytes, block->capacity());
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
  pool->Release(block);
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
}

TEST(BufferPoolTest, ReleasedLargeBlockIsReusedBySameClass) {
  auto pool = BufferPool::Create({});
  Block* first = pool->Allocate(100000);
  size_t capacity = first->capacity();
  pool->Release(first);
  EXPECT_EQ(pool->stats().cached_bytes, capacity);
  EXPECT_EQ(pool->stats().reused, 0u);

  Block* again = pool->Allocate(110000);  // another size of the same class
  EXPECT_EQ(again, first);
  EXPECT_EQ(pool->stats().reused, 1u);
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
  EXPECT_EQ(pool->stats().allocated_bytes, capacity);

  pool->Release(again);
  Block* other_class = pool->Allocate(300000);
  EXPECT_NE(other_class, first);
  EXPECT_EQ(pool->stats().reused, 1u) << "a block of another class was reused";
  EXPECT_EQ(pool->stats().cached_bytes, capacity);
  pool->Release(other_class);
}

TEST(BufferPoolTest, CacheKeepsAtMostCacheBytes) {
  BufferPoolOptions options;
  options.cache_bytes = 2 * 128 * kKiB;
  auto pool = BufferPool::Create(options);
  std::vector<Block*> blocks;
  for (int i = 0; i < 3; ++i) blocks.push_back(pool->Allocate(128 * kKiB));
  for (Block* b : blocks) EXPECT_EQ(b->capacity(), 128 * kKiB);
  EXPECT_EQ(pool->stats().allocated_bytes, 3 * 128 * kKiB);
  for (Block* b : blocks) pool->Release(b);
  EXPECT_EQ(pool->stats().cached_bytes, 2 * 128 * kKiB);
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
  blocks.clear();
  for (int i = 0; i < 3; ++i) blocks.push_back(pool->Allocate(128 * kKiB));
  EXPECT_EQ(pool->stats().reused, 2u);
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
  for (Block* b : blocks) pool->Release(b);
}

TEST(BufferPoolTest, ZeroCacheKeepsNothing) {
  BufferPoolOptions options;
  options.cache_bytes = 0;
  auto pool = BufferPool::Create(options);
  pool->Release(pool->Allocate(kMiB));
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
  pool->Release(pool->Allocate(kMiB));
  EXPECT_EQ(pool->stats().reused, 0u);
}

TEST(BufferPoolTest, SmallBlocksAreExactAlignedAndNeverCached) {
  auto pool = BufferPool::Create({});
  Block* block = pool->Allocate(100);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(block->capacity(), 100u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block->data()) % 64, 0u);
  std::memset(block->data(), 1, 100);
  EXPECT_EQ(pool->stats().allocated_bytes, 100u);
  pool->Release(block);
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
  pool->Release(pool->Allocate(100));
  EXPECT_EQ(pool->stats().reused, 0u);

  Block* empty = pool->Allocate(0);
  ASSERT_NE(empty, nullptr);
  EXPECT_NE(empty->data(), nullptr);
  EXPECT_EQ(empty->capacity(), 1u);
  pool->Release(empty);
}

TEST(BufferPoolTest, LargeThresholdDecidesWhatIsPooled) {
  BufferPoolOptions options;
  options.large_threshold = kMiB;
  auto pool = BufferPool::Create(options);
  Block* below = pool->Allocate(512 * kKiB + 3);
  EXPECT_EQ(below->capacity(), 512 * kKiB + 3);  // heap, exact
  pool->Release(below);
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
  Block* at = pool->Allocate(kMiB);
  EXPECT_EQ(at->capacity(), kMiB);
  pool->Release(at);
  EXPECT_EQ(pool->stats().cached_bytes, kMiB);
}

TEST(BufferPoolTest, ReleaseOfNullIsANoOp) {
  auto pool = BufferPool::Create({});
  pool->Release(nullptr);
  EXPECT_EQ(pool->stats().allocated_bytes, 0u);
  EXPECT_EQ(pool->stats().cached_bytes, 0u);
}

TEST(BufferPoolTest, ConcurrentAllocateAndReleaseKeepTheBooksStraight) {
  BufferPoolOptions options;
  options.cache_bytes = 4 * kMiB;
  auto pool = BufferPool::Create(options);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      const size_t sizes[] = {100, 70 * kKiB, 300 * kKiB, kMiB + 1, 5000};
      std::vector<Block*> held;
      for (int i = 0; i < 500; ++i) {
        Block* b = pool->Allocate(sizes[(i + t) % 5]);
        b->data()[0] = std::byte{1};
        held.push_back(b);
        if (held.size() > 3) {
          pool->Release(held.front());
          held.erase(held.begin());
        }
      }
      for (Block* b : held) pool->Release(b);
    });
  }
  for (auto& t : threads) t.join();
  BufferPool::Stats s = pool->stats();
  EXPECT_EQ(s.allocated_bytes, 0u);
  EXPECT_LE(s.cached_bytes, options.cache_bytes);
  EXPECT_GT(s.reused, 0u);
}

}  // namespace
}  // namespace prism::objstore
