#include "host_algorithms.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "reduce_kernels.h"
#include "rma_algorithms.h"
#include "segments.h"
#include "stream_algorithms.h"

namespace prism::collective {
namespace {

// Tags: step * kStride + chunk.
constexpr uint32_t kStride = 4096;
constexpr size_t kMinChunkBytes = 256 * 1024;
constexpr size_t kMaxChunkBytes = 4 * 1024 * 1024;

uint32_t Tag(int step, size_t chunk) {
  return static_cast<uint32_t>(step) * kStride + static_cast<uint32_t>(chunk);
}

int Mod(int a, int w) { return ((a % w) + w) % w; }

// A range of `len` elements cut into chunks of `chunk` elements.
struct Chunks {
  size_t len;
  size_t chunk;
  size_t n() const { return len == 0 ? 0 : (len + chunk - 1) / chunk; }
  size_t off(size_t k) const { return k * chunk; }
  size_t size(size_t k) const { return std::min(chunk, len - k * chunk); }
};

// Recursive doubling; the ranks beyond the largest power of two fold into their neighbours first.
Status SmallAllReduce(Member& m, std::byte* data, size_t count, DataType type, ReduceOp op) {
  const int w = m.world_size();
  const int r = m.rank();
  const size_t bytes = count * DataTypeSize(type);
  std::byte* scratch = m.Scratch(0, bytes);
  HostOp hop(m, m.NextSeq());
  int p2 = 1;
  while (p2 * 2 <= w) p2 *= 2;
  const int rem = w - p2;
  int vr;
  if (r < 2 * rem) {
    if (r % 2 == 0) {
      if (Status s = hop.Send(r + 1, Tag(0, 0), data, bytes); !s) return s;
      if (Status s = hop.WaitAll(); !s) return s;
      vr = -1;
    } else {
      auto in = hop.Recv(r - 1, Tag(0, 0), scratch, bytes);
      if (Status s = hop.Wait(in); !s) return s;
      ReduceElements(data, data, scratch, count, type, op);
      vr = r / 2;
    }
  } else {
    vr = r - rem;
  }
  if (vr >= 0) {
    int round = 1;
    for (int mask = 1; mask < p2; mask <<= 1, ++round) {
      int pv = vr ^ mask;
      int partner = pv < rem ? pv * 2 + 1 : pv + rem;
      auto in = hop.Recv(partner, Tag(round, 0), scratch, bytes);
      if (Status s = hop.Send(partner, Tag(round, 0), data, bytes); !s) return s;
      if (Status s = hop.WaitAll(); !s) return s;
      ReduceElements(data, data, scratch, count, type, op);
    }
  }
  if (r < 2 * rem) {
    if (r % 2 == 1) {
      if (Status s = hop.Send(r - 1, Tag(100, 0), data, bytes); !s) return s;
    } else {
      hop.Recv(r + 1, Tag(100, 0), data, bytes);
    }
  }
  return hop.WaitAll();
}

// Ring reduce-scatter into `data`: afterwards member r holds the full reduction of segment
// (r + 1) % w. With `allgather`, the ring allgather follows, each chunk forwarded as soon as it is
// final; without, the caller gathers.
Status RingAllReduce(Member& m, HostOp& hop, std::byte* data, size_t count, DataType type,
                     ReduceOp op, bool allgather) {
  const int w = m.world_size();
  const int r = m.rank();
  const int right = Mod(r + 1, w);
  const int left = Mod(r - 1, w);
  const size_t es = DataTypeSize(type);
  Segments seg{count, w};
  const size_t max_seg = seg.len(0);
  const size_t chunk = ChunkBytes(max_seg * es, es) / es;
  std::byte* scratch[2] = {m.Scratch(0, max_seg * es), m.Scratch(1, max_seg * es)};
  auto chunks_of = [&](int s) { return Chunks{seg.len(s), chunk}; };
  auto at = [&](int s, size_t k) { return data + (seg.start(s) + k * chunk) * es; };

  // Allgather receives go straight into their final place: post them all now.
  std::vector<std::vector<std::shared_ptr<RecvOp>>> ag(allgather ? static_cast<size_t>(w - 1) : 0);
  for (int s = 0; allgather && s < w - 1; ++s) {
    int sg = Mod(r - s, w);
    Chunks c = chunks_of(sg);
    for (size_t k = 0; k < c.n(); ++k) {
      ag[static_cast<size_t>(s)].push_back(
          hop.Recv(left, Tag(w + s, k), at(sg, k), c.size(k) * es));
    }
  }
  auto post_rs = [&](int s) {
    std::vector<std::shared_ptr<RecvOp>> ops;
    int sg = Mod(r - s - 1, w);
    Chunks c = chunks_of(sg);
    for (size_t k = 0; k < c.n(); ++k) {
      ops.push_back(hop.Recv(left, Tag(s, k), scratch[s % 2] + c.off(k) * es, c.size(k) * es));
    }
    return ops;
  };
  std::vector<std::shared_ptr<RecvOp>> current = post_rs(0);
  {
    Chunks c = chunks_of(r);
    for (size_t k = 0; k < c.n(); ++k) {
      if (Status s = hop.Send(right, Tag(0, k), at(r, k), c.size(k) * es); !s) return s;
    }
  }
  for (int s = 0; s < w - 1; ++s) {
    int sg = Mod(r - s - 1, w);
    std::vector<std::shared_ptr<RecvOp>> next;
    if (s + 1 < w - 1) next = post_rs(s + 1);
    Chunks c = chunks_of(sg);
    for (size_t k = 0; k < c.n(); ++k) {
      if (Status st = hop.Wait(current[k]); !st) return st;
      ReduceElements(at(sg, k), at(sg, k), scratch[s % 2] + c.off(k) * es, c.size(k), type, op);
      if (s + 1 < w - 1) {
        if (Status st = hop.Send(right, Tag(s + 1, k), at(sg, k), c.size(k) * es); !st) return st;
      } else if (allgather) {
        if (Status st = hop.Send(right, Tag(w, k), at(sg, k), c.size(k) * es); !st) return st;
      }
    }
    current = std::move(next);
  }
  for (int s = 0; allgather && s < w - 1; ++s) {
    int sg = Mod(r - s, w);
    Chunks c = chunks_of(sg);
    for (size_t k = 0; k < c.n(); ++k) {
      if (Status st = hop.Wait(ag[static_cast<size_t>(s)][k]); !st) return st;
      if (s + 1 < w - 1) {
        if (Status st = hop.Send(right, Tag(w + s + 1, k), at(sg, k), c.size(k) * es); !st) {
          return st;
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

size_t ChunkBytes(size_t segment_bytes, size_t element_size) {
  size_t chunk = std::clamp(segment_bytes / 4, kMinChunkBytes, kMaxChunkBytes);
  // At most kStride chunks per segment, so that tags stay distinct.
  chunk = std::max(chunk, segment_bytes / (kStride - 1) + 1);
  chunk -= chunk % element_size;
  return std::max(chunk, element_size);
}

Status HostAllReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op) {
  const int w = m.world_size();
  if (w == 1 || count == 0) {
    m.NextSeq();
    return Status::Ok();
  }
  auto* d = static_cast<std::byte*>(data);
  const size_t bytes = count * DataTypeSize(type);
  if (count >= static_cast<size_t>(w) && UseStreamAllReduce(m, bytes)) {
    bool ran = false;
    Status s = StreamAllReduce(m, d, count, type, op, &ran);
    if (ran || !s) return s;  // else some member has no outbox: go on below
  }
  if (bytes <= kSmallBytes || count < static_cast<size_t>(w)) {
    return SmallAllReduce(m, d, count, type, op);
  }
  if (UseRma(m, bytes)) return RmaAllReduce(m, d, count, type, op);
  HostOp hop(m, m.NextSeq());
  if (Status s = RingAllReduce(m, hop, d, count, type, op, /*allgather=*/true); !s) return s;
  return hop.WaitAll();
}

Status HostReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op, int root) {
  const int w = m.world_size();
  const int r = m.rank();
  if (w > 1 && count >= static_cast<size_t>(w) && UseStreamReduce(m, count * DataTypeSize(type))) {
    bool ran = false;
    Status s = StreamReduce(m, data, count, type, op, root, &ran);
    if (ran || !s) return s;  // else some member has no outbox: go on below
  }
  HostOp hop(m, m.NextSeq());
  if (w == 1 || count == 0) return Status::Ok();
  auto* d = static_cast<std::byte*>(data);
  const size_t es = DataTypeSize(type);
  const size_t bytes = count * es;
  if (bytes > kSmallBytes && count >= static_cast<size_t>(w)) {
    if (Status s = RingAllReduce(m, hop, d, count, type, op, /*allgather=*/false); !s) return s;
    // Gather the reduced segments (member j holds segment j + 1) into the root's buffer.
    Segments seg{count, w};
    if (r != root) {
      int sg = Mod(r + 1, w);
      if (Status s = hop.Send(root, Tag(2 * w, 0), d + seg.start(sg) * es, seg.len(sg) * es); !s) {
        return s;
      }
    } else {
      for (int j = 0; j < w; ++j) {
        if (j == root) continue;
        int sg = Mod(j + 1, w);
        hop.Recv(j, Tag(2 * w, 0), d + seg.start(sg) * es, seg.len(sg) * es);
      }
    }
    return hop.WaitAll();
  }
  // Binomial tree towards the root.
  std::byte* scratch = m.Scratch(0, bytes);
  const int vr = Mod(r - root, w);
  int round = 0;
  for (int mask = 1; mask < w; mask <<= 1, ++round) {
    if ((vr & mask) != 0) {
      if (Status s = hop.Send(Mod(vr - mask + root, w), Tag(round, 0), d, bytes); !s) return s;
      break;
    }
    if (vr + mask < w) {
      auto in = hop.Recv(Mod(vr + mask + root, w), Tag(round, 0), scratch, bytes);
      if (Status s = hop.Wait(in); !s) return s;
      ReduceElements(d, d, scratch, count, type, op);
    }
  }
  return hop.WaitAll();
}

Status HostBroadcast(Member& m, void* data, size_t bytes, int root) {
  const int w = m.world_size();
  const int r = m.rank();
  if (UseStream(m, bytes)) return StreamBroadcast(m, data, bytes, root);
  HostOp hop(m, m.NextSeq());
  if (w == 1 || bytes == 0) return Status::Ok();
  auto* d = static_cast<std::byte*>(data);
  const int vr = Mod(r - root, w);
  if (bytes <= kSmallBytes) {  // binomial tree
    int mask = 1;
    while (mask < w) {
      if ((vr & mask) != 0) {
        auto in = hop.Recv(Mod(vr - mask + root, w), Tag(0, 0), d, bytes);
        if (Status s = hop.Wait(in); !s) return s;
        break;
      }
      mask <<= 1;
    }
    for (mask >>= 1; mask > 0; mask >>= 1) {
      if (vr + mask < w) {
        if (Status s = hop.Send(Mod(vr + mask + root, w), Tag(0, 0), d, bytes); !s) return s;
      }
    }
    return hop.WaitAll();
  }
  // A pipelined chain root -> root+1 -> ...: each chunk is forwarded as soon as it arrived.
  Chunks c{bytes, ChunkBytes(bytes, 1)};
  const int next = vr + 1 < w ? Mod(r + 1, w) : -1;
  if (vr == 0) {
    for (size_t k = 0; k < c.n(); ++k) {
      if (Status s = hop.Send(next, Tag(0, k), d + c.off(k), c.size(k)); !s) return s;
    }
    return hop.WaitAll();
  }
  std::vector<std::shared_ptr<RecvOp>> in;
  for (size_t k = 0; k < c.n(); ++k) {
    in.push_back(hop.Recv(Mod(r - 1, w), Tag(0, k), d + c.off(k), c.size(k)));
  }
  for (size_t k = 0; k < c.n(); ++k) {
    if (Status s = hop.Wait(in[k]); !s) return s;
    if (next >= 0) {
      if (Status s = hop.Send(next, Tag(0, k), d + c.off(k), c.size(k)); !s) return s;
    }
  }
  return hop.WaitAll();
}

Status HostAllGather(Member& m, const void* send, void* recv, size_t bytes) {
  const int w = m.world_size();
  const int r = m.rank();
  if (UseStream(m, bytes) && bytes * static_cast<size_t>(w) >= kStreamAllGatherMinBytes) {
    return StreamAllGather(m, send, recv, bytes);
  }
  if (UseRma(m, bytes)) return RmaAllGather(m, send, recv, bytes);
  HostOp hop(m, m.NextSeq());
  auto* out = static_cast<std::byte*>(recv);
  auto block = [&](int b) { return out + static_cast<size_t>(b) * bytes; };
  if (bytes == 0) return Status::Ok();
  if (w > 1) {
    const int right = Mod(r + 1, w);
    const int left = Mod(r - 1, w);
    Chunks c{bytes, ChunkBytes(bytes, 1)};
    std::vector<std::vector<std::shared_ptr<RecvOp>>> in(static_cast<size_t>(w - 1));
    for (int s = 0; s < w - 1; ++s) {
      for (size_t k = 0; k < c.n(); ++k) {
        in[static_cast<size_t>(s)].push_back(
            hop.Recv(left, Tag(s, k), block(Mod(r - s - 1, w)) + c.off(k), c.size(k)));
      }
    }
    for (size_t k = 0; k < c.n(); ++k) {
      if (Status s =
              hop.Send(right, Tag(0, k), static_cast<const std::byte*>(send) + c.off(k), c.size(k));
          !s) {
        return s;
      }
    }
    for (int s = 0; s < w - 1; ++s) {
      for (size_t k = 0; k < c.n(); ++k) {
        if (Status st = hop.Wait(in[static_cast<size_t>(s)][k]); !st) return st;
        if (s + 1 < w - 1) {
          if (Status st =
                  hop.Send(right, Tag(s + 1, k), block(Mod(r - s - 1, w)) + c.off(k), c.size(k));
              !st) {
            return st;
          }
        }
      }
    }
  }
  if (block(r) != send) std::memmove(block(r), send, bytes);
  return hop.WaitAll();
}

Status HostReduceScatter(Member& m, const void* send, void* recv, size_t count, DataType type,
                         ReduceOp op) {
  const int w = m.world_size();
  const int r = m.rank();
  const size_t es = DataTypeSize(type);
  const size_t bytes = count * es;
  if (w > 1 && count > 0 && UseStreamReduce(m, bytes * static_cast<size_t>(w))) {
    bool ran = false;
    Status s = StreamReduceScatter(m, send, recv, count, type, op, &ran);
    if (ran || !s) return s;  // else some member has no outbox: go on below
  }
  HostOp hop(m, m.NextSeq());
  const auto* in = static_cast<const std::byte*>(send);
  auto input = [&](int b) { return in + static_cast<size_t>(b) * bytes; };
  if (bytes == 0) return Status::Ok();
  if (w == 1) {
    std::memmove(recv, input(0), bytes);
    return Status::Ok();
  }
  const int right = Mod(r + 1, w);
  const int left = Mod(r - 1, w);
  // Step s sends the partial of block r-s-1 and receives the partial of block r-s-2; the last
  // step's block is r itself. Partials alternate between two buffers, as do incoming chunks.
  Chunks c{count, ChunkBytes(bytes, es) / es};
  std::byte* partial[2] = {m.Scratch(0, bytes), m.Scratch(1, bytes)};
  std::byte* incoming[2] = {m.Scratch(2, bytes), m.Scratch(3, bytes)};
  auto post = [&](int s) {
    std::vector<std::shared_ptr<RecvOp>> ops;
    for (size_t k = 0; k < c.n(); ++k) {
      ops.push_back(hop.Recv(left, Tag(s, k), incoming[s % 2] + c.off(k) * es, c.size(k) * es));
    }
    return ops;
  };
  std::vector<std::shared_ptr<RecvOp>> current = post(0);
  for (size_t k = 0; k < c.n(); ++k) {
    if (Status s = hop.Send(right, Tag(0, k), input(Mod(r - 1, w)) + c.off(k) * es, c.size(k) * es);
        !s) {
      return s;
    }
  }
  std::vector<size_t> sends_after_step;
  for (int s = 0; s < w - 1; ++s) {
    // partial[s % 2] was last sent two steps ago: those sends must be done before rewriting it.
    if (s >= 2) {
      if (Status st = hop.WaitSends(sends_after_step[static_cast<size_t>(s - 2)]); !st) return st;
    }
    std::vector<std::shared_ptr<RecvOp>> next;
    if (s + 1 < w - 1) next = post(s + 1);
    const bool last = s == w - 2;
    std::byte* out = last ? static_cast<std::byte*>(recv) : partial[s % 2];
    const std::byte* mine = input(Mod(r - s - 2, w));
    for (size_t k = 0; k < c.n(); ++k) {
      if (Status st = hop.Wait(current[k]); !st) return st;
      size_t off = c.off(k) * es;
      ReduceElements(out + off, incoming[s % 2] + off, mine + off, c.size(k), type, op);
      if (!last) {
        if (Status st = hop.Send(right, Tag(s + 1, k), out + off, c.size(k) * es); !st) return st;
      }
    }
    sends_after_step.push_back(hop.sends());
    current = std::move(next);
  }
  return hop.WaitAll();
}

Status HostBarrier(Member& m) {
  const int w = m.world_size();
  const int r = m.rank();
  HostOp hop(m, m.NextSeq());
  int round = 0;
  for (int k = 1; k < w; k <<= 1, ++round) {
    hop.Recv(Mod(r - k, w), Tag(round, 0), nullptr, 0);
    if (Status s = hop.Send(Mod(r + k, w), Tag(round, 0), nullptr, 0); !s) return s;
    if (Status s = hop.WaitAll(); !s) return s;
  }
  return Status::Ok();
}

Status HostSend(Member& m, const void* data, size_t bytes, int dst) {
  HostOp hop(m, m.NextSendSeq(dst));
  if (Status s = hop.Send(dst, 0, data, bytes); !s) return s;
  return hop.WaitAll();
}

Status HostRecv(Member& m, void* data, size_t bytes, int src) {
  HostOp hop(m, m.NextRecvSeq(src));
  hop.Recv(src, 0, data, bytes);
  return hop.WaitAll();
}

}  // namespace prism::collective
