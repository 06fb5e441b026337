#pragma once
/// BufferPool: memory for object data, recycled by size class and registered with UCX once.
///
/// Large objects get page-aligned blocks (transparent huge pages where the kernel allows) that
/// are kept after use, so the next object of a similar size reuses memory that is already
/// faulted in and already registered: a pull lands at memory speed instead of page-fault speed.
///
///   auto pool = BufferPool::Create({.cache_bytes = 1 << 30});
///   Block* b = pool->Allocate(64 << 20);   // ... fill b->data() ...
///   pool->Release(b);                      // cached for the next allocation of that class
///
/// Thread-safe.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "prism/common/result.h"
#include "prism/transport/memory_region.h"
#include "prism/transport/transport.h"

namespace prism::objstore {

class BufferPool;

/// A block of memory owned by the pool.
class Block {
 public:
  std::byte* data() const { return data_; }
  size_t capacity() const { return capacity_; }

 private:
  friend class BufferPool;
  std::byte* data_ = nullptr;
  size_t capacity_ = 0;
  bool mapped_ = false;  // mmap'ed (large) rather than heap (small)
  std::unique_ptr<transport::MemoryRegion> region_;
};

struct BufferPoolOptions {
  size_t cache_bytes = size_t{1} << 30;       ///< Most free memory kept for reuse.
  size_t large_threshold = size_t{64} << 10;  ///< From this size on, blocks are mmap'ed and cached.
};

class BufferPool : public std::enable_shared_from_this<BufferPool> {
 public:
  static std::shared_ptr<BufferPool> Create(const BufferPoolOptions& options);
  ~BufferPool();

  /// A block of at least `size` bytes. Never null: allocation failure throws std::bad_alloc.
  Block* Allocate(size_t size);
  /// Returns a block to the pool (cached or unmapped).
  void Release(Block* block);

  /// The block's UCX registration, made on first use with `transport` and kept while the block
  /// lives in the pool.
  Result<const transport::MemoryRegion*> Register(Block* block, transport::Transport& transport);
  /// Drops every registration (before the transport that made them stops).
  void DropRegistrations();

  struct Stats {
    size_t cached_bytes = 0;     ///< Free blocks kept for reuse.
    size_t allocated_bytes = 0;  ///< Blocks handed out and not yet released.
    uint64_t reused = 0;         ///< Allocations served from the cache.
  };
  Stats stats() const;

  /// The capacity a request of `size` bytes gets (size classes: four per power of two).
  static size_t ClassCapacity(size_t size);

 private:
  explicit BufferPool(const BufferPoolOptions& options) : options_(options) {}
  void Unmap(Block* block);

  BufferPoolOptions options_;
  mutable std::mutex mu_;
  std::map<size_t, std::vector<Block*>> free_;  // by capacity
  std::set<Block*> registered_;
  Stats stats_;
};

}  // namespace prism::objstore
