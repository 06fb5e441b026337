#include "stream_algorithms.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "copy_kernels.h"
#include "prism/common/wire.h"
#include "reduce_kernels.h"
#include "rma_algorithms.h"
#include "segments.h"
#include "shm_stream.h"

namespace prism::collective {
namespace {

constexpr uint32_t kTagOffer = 0;  // a member's buffer size and whether it has outboxes
constexpr size_t kOfferBytes = 16;
constexpr size_t kChunk = ShmStream::kChunkBytes;
// Results from this size on are written with streaming stores; smaller ones may stay in the
// cache, where the caller reads them next (measured: a 16 MiB Broadcast took 1.36 ms with plain
// copies and 1.58 ms with streaming stores, a 64 MiB one 9.4 ms and 7.2 ms).
constexpr size_t kStreamingStoreBytes = 32 * 1024 * 1024;

// Copies a chunk out of a slot into the result (of `result_bytes` in all).
void CopyOut(std::byte* dst, const std::byte* slot, size_t n, size_t result_bytes) {
  if (result_bytes >= kStreamingStoreBytes) {
    StreamCopy(dst, slot, n);
  } else {
    std::memcpy(dst, slot, n);
  }
}

// Every member tells every other one its buffer size and whether it mapped every outbox.
// Succeeds with *streams set when all sizes match (the same decision on every member, since each
// sees every offer); fails on every member when they differ. *op: the operation's number (the
// same on every member), which stamps its chunks.
Status Agree(Member& m, size_t bytes, bool* streams, uint64_t* op) {
  const auto w = static_cast<size_t>(m.world_size());
  const int r = m.rank();
  *op = m.NextSeq();
  std::vector<std::array<std::byte, kOfferBytes>> raw(w);
  std::vector<std::byte> offer;
  WireWriter writer(offer);
  writer.U64(bytes);
  writer.U8(m.stream() != nullptr ? 1 : 0);
  offer.resize(kOfferBytes);
  HostOp hop(m, *op);  // after the buffers: withdraws its receives before they go
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

// A round's chunk stamps: the operation's number in the high bits, the round below, then the
// chunk's index (added by Exchange).
uint64_t Stamp(uint64_t op, uint64_t round) { return (op << 24) | (round << 22); }

// One round of streaming (its chunks stamped `stamp` + index). This member publishes `own_chunks`
// chunks (`publish(k, slot)` writes chunk k into its slot) while it takes `their_chunks[j]` chunks
// from every other member j (`take(j, k, slot)` uses j's chunk k), interleaving the two so that
// nobody waits on a full outbox. `ordered`: the others are taken from one at a time, in member
// order (a fixed reduction order), else from whichever has a chunk ready.
template <typename Publish, typename Take>
Status Exchange(Member& m, uint64_t stamp, size_t own_chunks,
                const std::vector<size_t>& their_chunks, bool ordered, const Publish& publish,
                const Take& take) {
  ShmStream& st = *m.stream();
  const int w = m.world_size();
  const int r = m.rank();
  size_t published = 0;
  std::vector<size_t> taken(static_cast<size_t>(w), 0);
  size_t left = 0;
  for (int j = 0; j < w; ++j) left += j == r ? 0 : their_chunks[static_cast<size_t>(j)];
  auto open = [&](int j) {
    auto u = static_cast<size_t>(j);
    return j != r && taken[u] < their_chunks[u];
  };
  // Something to do: a chunk to publish into a free slot, or one to take.
  auto can_move = [&] {
    if (published < own_chunks && st.Writable()) return true;
    for (int j = 0; j < w; ++j) {
      if (!open(j)) continue;
      if (st.Readable(j) > 0) return true;
      if (ordered) break;
    }
    return false;
  };
  while (published < own_chunks || left > 0) {
    bool moved = false;
    if (published < own_chunks && st.Writable()) {
      publish(published, st.NextSlot());
      st.Publish(stamp + published);
      ++published;
      moved = true;
    }
    for (int j = 0; j < w; ++j) {
      if (!open(j)) continue;
      Result<uint64_t> ready = Ready(st, j);
      if (!ready) return Broken(m, ready.error());
      if (*ready > 0) {
        size_t& k = taken[static_cast<size_t>(j)];
        if (st.Stamped(j) != stamp + k) {
          return Broken(m, MakeError(ErrorCode::kInternal,
                                     fmt::format("member {}'s outbox is out of step: chunk {:#x} "
                                                 "where {:#x} was expected",
                                                 j, st.Stamped(j), stamp + k)));
        }
        take(j, k, st.Peek(j));
        st.Release(j);
        ++k;
        --left;
        moved = true;
      }
      if (ordered) break;
    }
    if (!moved) {
      if (Status s = m.Spin(can_move); !s) return Broken(m, s);
    }
  }
  return Status::Ok();
}

size_t ChunksOf(size_t bytes) { return (bytes + kChunk - 1) / kChunk; }

}  // namespace

bool UseStream(const Member& m, size_t bytes) { return UseRma(m, bytes); }

bool UseStreamAllReduce(const Member& m, size_t bytes) {
  return m.all_on_host() && bytes >= kStreamAllReduceMinBytes && bytes < kStreamAllReduceMaxBytes;
}

bool UseStreamReduce(const Member& m, size_t bytes) {
  return m.all_on_host() && bytes >= kStreamAllReduceMinBytes;
}

namespace {

// Where each member's segment of a reduction's buffer begins, in bytes (w + 1 entries).
std::vector<size_t> Bounds(const Segments& seg, size_t es) {
  std::vector<size_t> bounds;
  for (int j = 0; j <= seg.w; ++j) bounds.push_back(seg.start(j) * es);
  return bounds;
}

// The reduction round: every member publishes `src` (all members' segments laid end to end,
// `bounds`) outside its own segment, cut into chunks; member r reduces the part of each chunk that
// falls in its segment into `acc` (its segment's result, which already holds its own
// contribution), taking the others in member order (so each segment's reduction order is fixed,
// and every segment is reduced by one member only).
Status ReduceRound(Member& m, uint64_t stamp, const std::byte* src,
                   const std::vector<size_t>& bounds, std::byte* acc, DataType type, ReduceOp op) {
  const int w = m.world_size();
  const int r = m.rank();
  const size_t es = DataTypeSize(type);
  const size_t bytes = bounds.back();
  struct Piece {
    size_t at;
    size_t len;
  };
  std::vector<std::vector<Piece>> outside(static_cast<size_t>(w));
  std::vector<size_t> their(static_cast<size_t>(w));
  for (int j = 0; j < w; ++j) {
    auto u = static_cast<size_t>(j);
    for (auto [lo, hi] : {std::pair{size_t{0}, bounds[u]}, std::pair{bounds[u + 1], bytes}}) {
      for (size_t at = lo; at < hi; at += kChunk) {
        outside[u].push_back({at, std::min(kChunk, hi - at)});
      }
    }
    their[u] = outside[u].size();
  }
  const auto& mine = outside[static_cast<size_t>(r)];
  const size_t begin = bounds[static_cast<size_t>(r)];
  const size_t end = bounds[static_cast<size_t>(r) + 1];
  return Exchange(
      m, stamp, mine.size(), their, /*ordered=*/true,
      [&](size_t k, std::byte* slot) { std::memcpy(slot, src + mine[k].at, mine[k].len); },
      [&](int j, size_t k, const std::byte* slot) {
        const Piece& p = outside[static_cast<size_t>(j)][k];
        size_t lo = std::max(p.at, begin);
        size_t hi = std::min(p.at + p.len, end);
        if (lo < hi) {
          std::byte* into = acc + (lo - begin);
          ReduceElements(into, into, slot + (lo - p.at), (hi - lo) / es, type, op);
        }
      });
}

// The gathering round: the members publish their segments of `data` (`bounds`) and the others
// copy them into place: every member (root < 0), or only the root, whose own segment then stays
// unpublished. The other members still take (and drop) every published chunk: every member reads
// every chunk another one publishes, or the outboxes' counts would drift apart.
Status GatherRound(Member& m, uint64_t stamp, std::byte* data, const std::vector<size_t>& bounds,
                   int root) {
  const int w = m.world_size();
  const int r = m.rank();
  auto publishes = [&](int j) { return root < 0 || j != root; };
  auto chunks = [&](int j) {
    auto u = static_cast<size_t>(j);
    return publishes(j) ? ChunksOf(bounds[u + 1] - bounds[u]) : 0;
  };
  std::vector<size_t> their(static_cast<size_t>(w));
  for (int j = 0; j < w; ++j) their[static_cast<size_t>(j)] = chunks(j);
  const bool keeps = root < 0 || r == root;
  return Exchange(
      m, stamp, chunks(r), their, /*ordered=*/false,
      [&](size_t k, std::byte* slot) {
        size_t at = bounds[static_cast<size_t>(r)] + k * kChunk;
        std::memcpy(slot, data + at, std::min(kChunk, bounds[static_cast<size_t>(r) + 1] - at));
      },
      [&](int j, size_t k, const std::byte* slot) {
        if (!keeps) return;
        auto u = static_cast<size_t>(j);
        size_t at = bounds[u] + k * kChunk;
        std::memcpy(data + at, slot, std::min(kChunk, bounds[u + 1] - at));
      });
}

}  // namespace

namespace {

// AllReduce (root < 0) and Reduce: the reduction round, then the gathering round.
Status ReduceAndGather(Member& m, void* data, size_t count, DataType type, ReduceOp op, int root,
                       bool* ran) {
  const size_t es = DataTypeSize(type);
  *ran = false;
  uint64_t seq = 0;
  if (Status s = Agree(m, count * es, ran, &seq); !s) return s;
  if (!*ran) return Status::Ok();
  auto* d = static_cast<std::byte*>(data);
  const std::vector<size_t> bounds = Bounds(Segments{count, m.world_size()}, es);
  const auto r = static_cast<size_t>(m.rank());
  if (Status s = ReduceRound(m, Stamp(seq, 0), d, bounds, d + bounds[r], type, op); !s) return s;
  return GatherRound(m, Stamp(seq, 1), d, bounds, root);
}

}  // namespace

Status StreamAllReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op, bool* ran) {
  return ReduceAndGather(m, data, count, type, op, /*root=*/-1, ran);  // everyone gathers
}

Status StreamReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op, int root,
                    bool* ran) {
  return ReduceAndGather(m, data, count, type, op, root, ran);  // only the root gathers
}

Status StreamReduceScatter(Member& m, const void* send, void* recv, size_t count, DataType type,
                           ReduceOp op, bool* ran) {
  const size_t block = count * DataTypeSize(type);
  const auto w = static_cast<size_t>(m.world_size());
  *ran = false;
  uint64_t seq = 0;
  if (Status s = Agree(m, block * w, ran, &seq); !s) return s;
  if (!*ran) return Status::Ok();
  const auto* in = static_cast<const std::byte*>(send);
  const auto r = static_cast<size_t>(m.rank());
  std::vector<size_t> bounds;
  for (size_t j = 0; j <= w; ++j) bounds.push_back(j * block);
  std::memmove(recv, in + bounds[r], block);  // this member's own contribution first
  return ReduceRound(m, Stamp(seq, 0), in, bounds, static_cast<std::byte*>(recv), type, op);
}

Status StreamBroadcast(Member& m, void* data, size_t bytes, int root) {
  bool streams = false;
  uint64_t seq = 0;
  if (Status s = Agree(m, bytes, &streams, &seq); !s) return s;
  if (!streams) return RmaBroadcast(m, data, bytes, root);
  auto* d = static_cast<std::byte*>(data);
  const size_t chunks = ChunksOf(bytes);
  // The root only publishes (and returns when the last chunk is out); the others only take.
  std::vector<size_t> their(static_cast<size_t>(m.world_size()), 0);
  their[static_cast<size_t>(root)] = chunks;
  return Exchange(
      m, Stamp(seq, 0), m.rank() == root ? chunks : 0, their, /*ordered=*/false,
      [&](size_t k, std::byte* slot) { std::memcpy(slot, d + k * kChunk, ChunkLen(bytes, k)); },
      [&](int, size_t k, const std::byte* slot) {
        CopyOut(d + k * kChunk, slot, ChunkLen(bytes, k), bytes);
      });
}

Status StreamAllGather(Member& m, const void* send, void* recv, size_t bytes) {
  bool streams = false;
  uint64_t seq = 0;
  if (Status s = Agree(m, bytes, &streams, &seq); !s) return s;
  if (!streams) return RmaAllGather(m, send, recv, bytes);
  const auto* src = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  std::byte* own = out + static_cast<size_t>(m.rank()) * bytes;
  const size_t chunks = ChunksOf(bytes);
  const size_t result = bytes * static_cast<size_t>(m.world_size());
  return Exchange(
      m, Stamp(seq, 0), chunks, std::vector<size_t>(static_cast<size_t>(m.world_size()), chunks),
      /*ordered=*/false,
      [&](size_t k, std::byte* slot) {
        // Read the block once: into the slot (which stays in the cache), and from there into
        // place.
        size_t n = ChunkLen(bytes, k);
        std::memcpy(slot, src + k * kChunk, n);
        if (own != src) CopyOut(own + k * kChunk, slot, n, result);
      },
      [&](int j, size_t k, const std::byte* slot) {
        CopyOut(out + static_cast<size_t>(j) * bytes + k * kChunk, slot, ChunkLen(bytes, k),
                result);
      });
}

}  // namespace prism::collective
