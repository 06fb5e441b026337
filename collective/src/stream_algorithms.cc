#include "stream_algorithms.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "copy_kernels.h"
#include "prism/common/wire.h"
#include "rma_algorithms.h"
#include "shm_stream.h"

namespace prism::collective {
namespace {

constexpr uint32_t kTagOffer = 0;  // a member's buffer size and whether it has outboxes
constexpr size_t kOfferBytes = 16;
constexpr size_t kChunk = ShmStream::kChunkBytes;

// Every member tells every other one its buffer size and whether it mapped every outbox.
// Succeeds with *streams set when all sizes match (the same decision on every member, since each
// sees every offer); fails on every member when they differ.
Status Agree(Member& m, size_t bytes, bool* streams) {
  const auto w = static_cast<size_t>(m.world_size());
  const int r = m.rank();
  std::vector<std::array<std::byte, kOfferBytes>> raw(w);
  std::vector<std::byte> offer;
  WireWriter writer(offer);
  writer.U64(bytes);
  writer.U8(m.stream() != nullptr ? 1 : 0);
  offer.resize(kOfferBytes);
  HostOp hop(m, m.NextSeq());  // after the buffers: withdraws its receives before they go
  std::vector<std::shared_ptr<RecvOp>> in(w);
  for (int j = 0; j < m.world_size(); ++j) {
    if (j == r) continue;
    auto u = static_cast<size_t>(j);
    in[u] = hop.Recv(j, kTagOffer, raw[u].data(), kOfferBytes);
  }
  for (int j = 0; j < m.world_size(); ++j) {
    if (j == r) continue;
    if (Status s = hop.Send(j, kTagOffer, offer.data(), offer.size()); !s) return s;
  }
  *streams = m.stream() != nullptr;
  for (int j = 0; j < m.world_size(); ++j) {
    if (j == r) continue;
    auto u = static_cast<size_t>(j);
    if (Status s = hop.Wait(in[u]); !s) return s;
    WireReader reader(raw[u]);
    uint64_t theirs = reader.U64();
    uint8_t has_stream = reader.U8();
    if (!reader.ok() || has_stream > 1) {
      return MakeError(ErrorCode::kMalformed,
                       fmt::format("member {} sent a malformed size announcement", j));
    }
    if (theirs != bytes) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("member {} has {} bytes where member {} has {}: the members' "
                                   "arguments differ",
                                   j, theirs, r, bytes));
    }
    if (has_stream == 0) *streams = false;
  }
  return hop.WaitSends(hop.sends());
}

// An operation that broke off after data moved: the outboxes' counts no longer match between the
// members, so the incarnation is failed (if a death did not do that already).
Status Broken(Member& m, Status why) {
  if (!m.failed()) {
    m.Fail(fmt::format("a shared-memory transfer of the group broke off: {}", why.error().message));
  }
  return why;
}

size_t ChunkLen(size_t bytes, size_t k) { return std::min(kChunk, bytes - k * kChunk); }

// Chunks member j published that this member has not read yet; an error when j published more
// than its outbox holds (it broke the protocol).
Result<uint64_t> Ready(ShmStream& st, int j) {
  uint64_t n = st.Readable(j);
  if (n > ShmStream::kSlots) {
    return MakeError(ErrorCode::kMalformed,
                     fmt::format("member {} published {} chunks into an outbox of {} slots", j, n,
                                 ShmStream::kSlots));
  }
  return n;
}

}  // namespace

bool UseStream(const Member& m, size_t bytes) { return UseRma(m, bytes); }

Status StreamBroadcast(Member& m, void* data, size_t bytes, int root) {
  bool streams = false;
  if (Status s = Agree(m, bytes, &streams); !s) return s;
  if (!streams) return RmaBroadcast(m, data, bytes, root);
  ShmStream& st = *m.stream();
  auto* d = static_cast<std::byte*>(data);
  const size_t chunks = (bytes + kChunk - 1) / kChunk;
  if (m.rank() == root) {
    for (size_t k = 0; k < chunks; ++k) {
      if (!st.Writable()) {
        if (Status s = m.Spin([&] { return st.Writable(); }); !s) return Broken(m, s);
      }
      std::memcpy(st.NextSlot(), d + k * kChunk, ChunkLen(bytes, k));
      st.Publish();
    }
    return Status::Ok();
  }
  for (size_t k = 0; k < chunks; ++k) {
    Result<uint64_t> ready = Ready(st, root);
    if (ready && *ready == 0) {
      Status s = m.Spin([&] { return st.Readable(root) > 0; });
      if (!s) return Broken(m, s);
      ready = Ready(st, root);
    }
    if (!ready) return Broken(m, ready.error());
    StreamCopy(d + k * kChunk, st.Peek(root), ChunkLen(bytes, k));
    st.Release(root);
  }
  return Status::Ok();
}

Status StreamAllGather(Member& m, const void* send, void* recv, size_t bytes) {
  bool streams = false;
  if (Status s = Agree(m, bytes, &streams); !s) return s;
  if (!streams) return RmaAllGather(m, send, recv, bytes);
  ShmStream& st = *m.stream();
  const int w = m.world_size();
  const int r = m.rank();
  const auto* src = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  auto block = [&](int j) { return out + static_cast<size_t>(j) * bytes; };
  std::byte* own = block(r);
  const size_t chunks = (bytes + kChunk - 1) / kChunk;
  size_t published = 0;
  std::vector<size_t> read(static_cast<size_t>(w), 0);
  size_t unread = static_cast<size_t>(w - 1) * chunks;
  // Something to do: a chunk to publish into a free slot, or a peer's chunk to read.
  auto can_move = [&] {
    if (published < chunks && st.Writable()) return true;
    for (int j = 0; j < w; ++j) {
      if (j != r && read[static_cast<size_t>(j)] < chunks && st.Readable(j) > 0) return true;
    }
    return false;
  };
  while (published < chunks || unread > 0) {
    bool moved = false;
    if (published < chunks && st.Writable()) {
      // Read the block once: into the slot (which stays in the cache), and from there into
      // place.
      std::byte* slot = st.NextSlot();
      size_t n = ChunkLen(bytes, published);
      std::memcpy(slot, src + published * kChunk, n);
      if (own != src) StreamCopy(own + published * kChunk, slot, n);
      st.Publish();
      ++published;
      moved = true;
    }
    for (int j = 0; j < w; ++j) {
      size_t& k = read[static_cast<size_t>(j)];
      if (j == r || k == chunks) continue;
      Result<uint64_t> ready = Ready(st, j);
      if (!ready) return Broken(m, ready.error());
      if (*ready == 0) continue;
      StreamCopy(block(j) + k * kChunk, st.Peek(j), ChunkLen(bytes, k));
      st.Release(j);
      ++k;
      --unread;
      moved = true;
    }
    if (!moved) {
      if (Status s = m.Spin(can_move); !s) return Broken(m, s);
    }
  }
  return Status::Ok();
}

}  // namespace prism::collective
