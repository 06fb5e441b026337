#pragma once
// The UCX backend's algorithms, on host buffers, over a Member's messaging:
//
// - AllReduce: recursive doubling (with the non-power-of-two fold) up to kSmallBytes; above, a
//   ring reduce-scatter followed by a ring allgather, both pipelined chunk by chunk across steps
//   (a chunk reduced in one step is forwarded at once in the next).
// - Reduce: binomial tree up to kSmallBytes; above, the ring reduce-scatter and a direct gather of
//   the reduced segments into the root's buffer.
// - Broadcast: binomial tree up to kSmallBytes; above, a pipelined chain from the root.
// - AllGather: ring, pipelined by chunks. ReduceScatter: ring with double-buffered partials.
// - Barrier: dissemination. Send/Recv: one message (zero-copy above the inline limit).
//
// Data received for the user's buffer is placed there by the transport when the receive was
// posted first (the algorithms post ahead of time); reductions read a scratch copy of the
// incoming chunk. Every function returns the first error (a member died, sizes differ, timeout).
//
// Thread contract: called by the member's executing thread only.

#include <cstddef>
#include <cstdint>

#include "member.h"
#include "prism/collective/types.h"

namespace prism::collective {

/// Messages up to this size use the latency-bound (logarithmic) algorithms.
inline constexpr size_t kSmallBytes = 64 * 1024;

Status HostAllReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op);
Status HostReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op, int root);
Status HostBroadcast(Member& m, void* data, size_t bytes, int root);
Status HostAllGather(Member& m, const void* send, void* recv, size_t bytes);
Status HostReduceScatter(Member& m, const void* send, void* recv, size_t count, DataType type,
                         ReduceOp op);
Status HostBarrier(Member& m);
Status HostSend(Member& m, const void* data, size_t bytes, int dst);
Status HostRecv(Member& m, void* data, size_t bytes, int src);

/// Bytes per pipelined chunk for a segment of `segment_bytes`.
size_t ChunkBytes(size_t segment_bytes, size_t element_size);

}  // namespace prism::collective
