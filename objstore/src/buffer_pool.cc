#include "prism/objstore/buffer_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <new>

namespace prism::objstore {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kSmallAlignment = 64;

size_t PageSize() {
  static const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return kPage;
}

}  // namespace

std::shared_ptr<BufferPool> BufferPool::Create(const BufferPoolOptions& options) {
  return std::shared_ptr<BufferPool>(new BufferPool(options));
}

BufferPool::~BufferPool() {
  for (auto& [capacity, blocks] : free_) {
    for (Block* b : blocks) Unmap(b);
  }
}

size_t BufferPool::ClassCapacity(size_t size) {
  if (size <= 1) return PageSize();
  // Four classes per power of two: at most 25% slack.
  size_t high = std::bit_floor(size);
  size_t quarter = std::max<size_t>(high / 4, 1);
  size_t capacity = (size + quarter - 1) / quarter * quarter;
  size_t page = PageSize();
  return (capacity + page - 1) / page * page;
}

Block* BufferPool::Allocate(size_t size) {
  if (size < options_.large_threshold) {
    auto* block = new Block();
    block->capacity_ = std::max<size_t>(size, 1);
    block->data_ = static_cast<std::byte*>(
        ::operator new(block->capacity_, std::align_val_t(kSmallAlignment)));
    std::lock_guard lock(mu_);
    stats_.allocated_bytes += block->capacity_;
    return block;
  }
  size_t capacity = ClassCapacity(size);
  {
    std::lock_guard lock(mu_);
    auto it = free_.find(capacity);
    if (it != free_.end() && !it->second.empty()) {
      Block* block = it->second.back();
      it->second.pop_back();
      stats_.cached_bytes -= capacity;
      stats_.allocated_bytes += capacity;
      ++stats_.reused;
      return block;
    }
  }
  void* memory =
      mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  // Fewer page faults when the block is first filled (2 MiB pages where THP is in madvise mode).
  if (capacity >= kHugePage) madvise(memory, capacity, MADV_HUGEPAGE);
  auto* block = new Block();
  block->data_ = static_cast<std::byte*>(memory);
  block->capacity_ = capacity;
  block->mapped_ = true;
  std::lock_guard lock(mu_);
  stats_.allocated_bytes += capacity;
  return block;
}

void BufferPool::Release(Block* block) {
  if (block == nullptr) return;
  if (!block->mapped_) {
    {
      std::lock_guard lock(mu_);
      stats_.allocated_bytes -= block->capacity_;
      registered_.erase(block);
    }
    block->region_.reset();
    ::operator delete(block->data_, std::align_val_t(kSmallAlignment));
    delete block;
    return;
  }
  {
    std::lock_guard lock(mu_);
    stats_.allocated_bytes -= block->capacity_;
    if (stats_.cached_bytes + block->capacity_ <= options_.cache_bytes) {
      free_[block->capacity_].push_back(block);
      stats_.cached_bytes += block->capacity_;
      return;
    }
    registered_.erase(block);
  }
  Unmap(block);
}

void BufferPool::Unmap(Block* block) {
  block->region_.reset();
  munmap(block->data_, block->capacity_);
  delete block;
}

Result<const transport::MemoryRegion*> BufferPool::Register(Block* block,
                                                            transport::Transport& transport) {
  std::lock_guard lock(mu_);
  if (!block->region_) {
    auto region = transport.RegisterMemory(block->data_, block->capacity_);
    if (!region) return region.error();
    block->region_ = std::move(*region);
    registered_.insert(block);
  }
  return block->region_.get();
}

void BufferPool::DropRegistrations() {
  std::lock_guard lock(mu_);
  for (Block* b : registered_) b->region_.reset();
  registered_.clear();
}

BufferPool::Stats BufferPool::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace prism::objstore
