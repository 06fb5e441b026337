#include "shm_stream.h"

#include <algorithm>
#include <atomic>
#include <new>

namespace prism::collective {
namespace {

constexpr size_t kLine = 64;
constexpr size_t kPage = 4096;

struct alignas(kLine) Counter {
  std::atomic<uint64_t> value;
};
static_assert(sizeof(Counter) == kLine);
static_assert(std::atomic<uint64_t>::is_always_lock_free, "outboxes need address-free atomics");

// Layout of an outbox: head, tail[world_size], the slots' stamps, padding to a page, then the
// slots.
size_t CountersBytes(int world_size) {
  size_t bytes =
      kLine * (1 + static_cast<size_t>(world_size)) + sizeof(uint64_t) * ShmStream::kSlots;
  return (bytes + kPage - 1) / kPage * kPage;
}

// The stamps of the slots (plain words: written before the release store of head, read after the
// acquire load).
uint64_t* Stamps(std::byte* area, int world_size) {
  return std::launder(
      reinterpret_cast<uint64_t*>(area + kLine * (1 + static_cast<size_t>(world_size))));
}

Counter* Head(std::byte* area) { return std::launder(reinterpret_cast<Counter*>(area)); }
Counter* Tail(std::byte* area, int reader) {
  return std::launder(reinterpret_cast<Counter*>(area + kLine * (1 + static_cast<size_t>(reader))));
}

}  // namespace

size_t ShmStream::AreaBytes(int world_size) {
  return CountersBytes(world_size) + kSlots * kChunkBytes;
}

void ShmStream::Format(std::byte* area, int world_size) {
  new (area) Counter{};
  Head(area)->value.store(0, std::memory_order_relaxed);
  for (int j = 0; j < world_size; ++j) {
    new (area + kLine * (1 + static_cast<size_t>(j))) Counter{};
    Tail(area, j)->value.store(0, std::memory_order_relaxed);
  }
  std::fill_n(Stamps(area, world_size), ShmStream::kSlots, uint64_t{0});
  std::atomic_thread_fence(std::memory_order_release);
}

ShmStream::ShmStream(int index, std::vector<std::byte*> areas)
    : index_(index), areas_(std::move(areas)), consumed_(areas_.size(), 0) {}

bool ShmStream::Writable() {
  if (published_ < released_by_all_ + kSlots) return true;
  uint64_t least = published_;
  std::byte* own = areas_[static_cast<size_t>(index_)];
  for (int j = 0; j < static_cast<int>(areas_.size()); ++j) {
    if (j != index_) least = std::min(least, Tail(own, j)->value.load(std::memory_order_acquire));
  }
  released_by_all_ = least;
  return published_ < released_by_all_ + kSlots;
}

std::byte* ShmStream::NextSlot() const {
  std::byte* own = areas_[static_cast<size_t>(index_)];
  return own + CountersBytes(static_cast<int>(areas_.size())) + (published_ % kSlots) * kChunkBytes;
}

void ShmStream::Publish(uint64_t stamp) {
  Stamps(areas_[static_cast<size_t>(index_)],
         static_cast<int>(areas_.size()))[published_ % kSlots] = stamp;
  ++published_;
  Head(areas_[static_cast<size_t>(index_)])->value.store(published_, std::memory_order_release);
}

uint64_t ShmStream::Readable(int j) const {
  auto u = static_cast<size_t>(j);
  return Head(areas_[u])->value.load(std::memory_order_acquire) - consumed_[u];
}

const std::byte* ShmStream::Peek(int j) const {
  auto u = static_cast<size_t>(j);
  return areas_[u] + CountersBytes(static_cast<int>(areas_.size())) +
         (consumed_[u] % kSlots) * kChunkBytes;
}

uint64_t ShmStream::Stamped(int j) const {
  auto u = static_cast<size_t>(j);
  return Stamps(areas_[u], static_cast<int>(areas_.size()))[consumed_[u] % kSlots];
}

void ShmStream::Release(int j) {
  auto u = static_cast<size_t>(j);
  ++consumed_[u];
  Tail(areas_[u], index_)->value.store(consumed_[u], std::memory_order_release);
}

}  // namespace prism::collective
