#include "shm_inbox.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "prism/common/logging.h"
#include "shm_stream.h"

namespace prism::collective {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("collective");
  return logger;
}

constexpr uint64_t kMagic = 0x5052534d43534831ULL;  // "PRSMCSH1"

struct SegmentHeader {
  uint64_t magic;
  uint32_t world_size;
  uint32_t index;
  uint32_t stream;  // 1: the segment ends with the member's outbox (ShmStream)
  alignas(64) std::atomic<uint32_t> polling;  // the owner polls: senders need not kick
};

struct RingHeader {
  alignas(64) std::atomic<uint64_t> head;  // written by the sender
  alignas(64) std::atomic<uint64_t> tail;  // written by the receiver
};

struct Slot {
  uint64_t seq;
  uint32_t tag;
  uint32_t size;
  std::byte data[ShmInbox::kSlotBytes];
};

static_assert(std::atomic<uint64_t>::is_always_lock_free, "rings need address-free atomics");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "rings need address-free atomics");

constexpr size_t kRingBytes = sizeof(RingHeader) + ShmInbox::kSlots * sizeof(Slot);

// The rings, then (from a page boundary) the member's outbox for bulk data (ShmStream).
size_t StreamAreaOffset(int world_size) {
  constexpr size_t kPage = 4096;
  size_t rings = sizeof(SegmentHeader) + static_cast<size_t>(world_size) * kRingBytes;
  return (rings + kPage - 1) / kPage * kPage;
}

size_t SegmentBytes(int world_size, bool stream) {
  return StreamAreaOffset(world_size) + (stream ? ShmStream::AreaBytes(world_size) : 0);
}

SegmentHeader* Header(std::byte* base) {
  return std::launder(reinterpret_cast<SegmentHeader*>(base));
}

// The ring that member `src` writes in a segment.
RingHeader* Ring(std::byte* base, int src) {
  return std::launder(reinterpret_cast<RingHeader*>(base + sizeof(SegmentHeader) +
                                                    static_cast<size_t>(src) * kRingBytes));
}

Slot* SlotAt(RingHeader* ring, uint64_t n) {
  auto* slots = reinterpret_cast<Slot*>(reinterpret_cast<std::byte*>(ring) + sizeof(RingHeader));
  return &slots[n % ShmInbox::kSlots];
}

std::atomic<uint64_t> g_counter{0};

}  // namespace

Result<std::unique_ptr<ShmInbox>> ShmInbox::Create(int world_size, int index, bool stream) {
  std::string name = fmt::format("/prism-coll-{}-{}", getpid(), g_counter.fetch_add(1));
  int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) {
    return MakeError(ErrorCode::kIoError,
                     fmt::format("shm_open({}): {}", name, std::strerror(errno)));
  }
  // Reserve the pages now: touching a page of a full tmpfs later would be a SIGBUS. Without room
  // for the outbox, make do with the rings.
  size_t bytes = SegmentBytes(world_size, stream);
  int reserved = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (reserved != 0 && stream) {
    Log().info(
        "no room for a {}-byte shared-memory outbox in {} ({}): the group's AllReduces, "
        "Broadcasts and AllGathers that would stream through it use other algorithms",
        ShmStream::AreaBytes(world_size), name, std::strerror(reserved));
    stream = false;
    bytes = SegmentBytes(world_size, stream);
    reserved = ftruncate(fd, static_cast<off_t>(bytes)) == 0
                   ? posix_fallocate(fd, 0, static_cast<off_t>(bytes))
                   : errno;
  }
  void* base = MAP_FAILED;
  if (reserved == 0) base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int saved = reserved != 0 ? reserved : errno;
  close(fd);
  if (base == MAP_FAILED) {
    shm_unlink(name.c_str());
    return MakeError(ErrorCode::kIoError,
                     fmt::format("mapping {} ({} bytes): {}", name, bytes, std::strerror(saved)));
  }
  auto* b = static_cast<std::byte*>(base);
  auto* header = new (b) SegmentHeader{kMagic,
                                       static_cast<uint32_t>(world_size),
                                       static_cast<uint32_t>(index),
                                       stream ? 1U : 0U,
                                       {}};
  header->polling.store(0, std::memory_order_relaxed);
  for (int s = 0; s < world_size; ++s) {
    auto* ring = new (b + sizeof(SegmentHeader) + static_cast<size_t>(s) * kRingBytes) RingHeader;
    ring->head.store(0, std::memory_order_relaxed);
    ring->tail.store(0, std::memory_order_relaxed);
  }
  if (stream) ShmStream::Format(b + StreamAreaOffset(world_size), world_size);
  std::atomic_thread_fence(std::memory_order_release);
  return std::unique_ptr<ShmInbox>(
      new ShmInbox(std::move(name), world_size, index, {b, bytes, stream}));
}

ShmInbox::ShmInbox(std::string name, int world_size, int index, Mapping own)
    : name_(std::move(name)),
      world_size_(world_size),
      index_(index),
      own_(own),
      peers_(static_cast<size_t>(world_size)) {}

ShmInbox::~ShmInbox() {
  for (auto& p : peers_) {
    if (p.base != nullptr) munmap(p.base, p.bytes);
  }
  munmap(own_.base, own_.bytes);
  Unlink();
}

std::byte* ShmInbox::StreamArea(int j) const {
  const Mapping& m = j == index_ ? own_ : peers_[static_cast<size_t>(j)];
  return m.base == nullptr || !m.stream ? nullptr : m.base + StreamAreaOffset(world_size_);
}

void ShmInbox::Unlink() {
  if (!linked_) return;
  linked_ = false;
  shm_unlink(name_.c_str());
}

bool ShmInbox::Connect(int j, const std::string& name) {
  int fd = shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) {
    Log().debug("member {}'s inbox {} is not reachable ({}): its messages use the transport", j,
                name, std::strerror(errno));
    return false;
  }
  // With or without an outbox: the size says which, and the header must agree.
  struct stat st {};
  void* base = MAP_FAILED;
  size_t bytes = 0;
  if (fstat(fd, &st) == 0 &&
      (static_cast<size_t>(st.st_size) == SegmentBytes(world_size_, true) ||
       static_cast<size_t>(st.st_size) == SegmentBytes(world_size_, false))) {
    bytes = static_cast<size_t>(st.st_size);
    base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  close(fd);
  if (base == MAP_FAILED) {
    Log().warn("member {}'s inbox {} has the wrong size or cannot be mapped: ignored", j, name);
    return false;
  }
  auto* b = static_cast<std::byte*>(base);
  const SegmentHeader* h = Header(b);
  const bool stream = bytes == SegmentBytes(world_size_, true);
  if (h->magic != kMagic || h->world_size != static_cast<uint32_t>(world_size_) ||
      h->index != static_cast<uint32_t>(j) || h->stream != (stream ? 1U : 0U)) {
    Log().warn("member {}'s inbox {} belongs to another group or member: ignored", j, name);
    munmap(base, bytes);
    return false;
  }
  peers_[static_cast<size_t>(j)] = Mapping{b, bytes, stream};
  return true;
}

bool ShmInbox::Send(int j, uint64_t seq, uint32_t tag, std::span<const std::byte> data,
                    bool* kick) {
  const Mapping& peer = peers_[static_cast<size_t>(j)];
  if (peer.base == nullptr || data.size() > kSlotBytes) return false;
  RingHeader* ring = Ring(peer.base, index_);
  const uint64_t head = ring->head.load(std::memory_order_relaxed);  // only this member writes it
  if (head - ring->tail.load(std::memory_order_acquire) >= kSlots) return false;
  Slot* slot = SlotAt(ring, head);
  slot->seq = seq;
  slot->tag = tag;
  slot->size = static_cast<uint32_t>(data.size());
  if (!data.empty()) std::memcpy(slot->data, data.data(), data.size());
  ring->head.store(head + 1, std::memory_order_release);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // publish, then look at the flag
  *kick = Header(peer.base)->polling.load(std::memory_order_relaxed) == 0;
  return true;
}

bool ShmInbox::Poll(const Deliver& deliver) {
  bool any = false;
  for (int s = 0; s < world_size_; ++s) {
    if (s == index_) continue;
    RingHeader* ring = Ring(own_.base, s);
    uint64_t tail = ring->tail.load(std::memory_order_relaxed);  // only this member writes it
    const uint64_t head = ring->head.load(std::memory_order_acquire);
    if (head == tail) continue;
    if (head - tail > kSlots) {  // a sender that broke the protocol: drop what it wrote
      Log().warn("member {} overran its shared-memory ring: {} messages dropped", s, head - tail);
      ring->tail.store(head, std::memory_order_release);
      continue;
    }
    for (; tail != head; ++tail) {
      const Slot* slot = SlotAt(ring, tail);
      if (slot->size > kSlotBytes) {
        Log().warn("malformed shared-memory message from member {}: dropped", s);
      } else {
        deliver(s, slot->seq, slot->tag, std::span(slot->data, slot->size));
      }
      ring->tail.store(tail + 1, std::memory_order_release);  // the slot is free again
      any = true;
    }
  }
  return any;
}

void ShmInbox::SetPolling(bool polling) {
  if (polling == polling_) return;
  polling_ = polling;
  Header(own_.base)->polling.store(polling ? 1 : 0, std::memory_order_relaxed);
  // Clear the flag, then look at the rings (the caller polls next): see the header.
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

}  // namespace prism::collective
