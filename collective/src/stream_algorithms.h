#pragma once
// AllReduce, Broadcast and AllGather for groups whose members all live in distinct processes of
// one host, streamed through the members' shared-memory outboxes (shm_stream.h):
//
// - AllReduce (8 KiB to 4 MiB): member r owns segment r of the buffer. Every member publishes its
//   buffer outside its own segment; member r reduces the part of each chunk that falls in its
//   segment into its own buffer as it comes, taking the others in member order (so each segment
//   is reduced in a fixed order, by one member, and all members end bit for bit equal). Then
//   every member publishes its reduced segment and copies the others' into place.
// - Reduce (from 8 KiB): the same, but only the root keeps the reduced segments (the others
//   still take and drop them: every member reads every chunk another one publishes).
// - ReduceScatter (from 8 KiB in all): the reduction round alone, block r of every member's
//   input reduced into member r's result.
// - Broadcast (from 2 MiB): the root copies its buffer chunk by chunk into its outbox; every other
// member
//   copies each chunk out into its buffer as soon as it is published. Root and readers copy at
//   the same time, each once; the root returns when it published the last chunk (its buffer is
//   free again then, as MPI's root's is when its send completes).
// - AllGather (from a 32 MiB result): every member copies its block into its outbox (and from there
// into its own place
//   in the result), and copies every other member's chunks out into their places, interleaving
//   the two so that nobody waits for a full outbox.
//
// A user buffer is only ever read and written by its own process: nothing is exposed or
// registered, so an operation that ends early (a member died) returns at once. Results of 32 MiB
// and more are written with streaming stores (copy_kernels.h).
//
// First the members exchange their buffer sizes and whether they mapped every outbox (one small
// message to each other member): sizes that differ fail the operation on every member before any
// data moves; when some member lacks an outbox, every member runs another algorithm instead (the
// RMA one for Broadcast and AllGather, rma_algorithms.h; for AllReduce the caller's). An
// operation that breaks off once data moves (a member died, a timeout) fails the group
// incarnation, since the outboxes' counts no longer match.
//
// Thread contract: called by the member's executing thread only.

#include <cstddef>

#include "member.h"
#include "prism/collective/types.h"

namespace prism::collective {

/// True when the stream algorithms apply to a Broadcast or AllGather of `bytes` (per member
/// buffer) in `m`: the RMA algorithms' condition (rma_algorithms.h).
bool UseStream(const Member& m, size_t bytes);

/// AllGathers whose result is smaller than this use the RMA algorithm even when the outboxes are
/// there: measured on two ranks, a 16 MiB AllGather took 1.49 ms reading the others' buffers with
/// process_vm_readv and 1.75 ms through the outboxes, a 64 MiB one 12.1 against 9.8 ms
/// (docs/collectives.md).
inline constexpr size_t kStreamAllGatherMinBytes = 32 * 1024 * 1024;

/// AllReduces of buffers in [kStreamAllReduceMinBytes, kStreamAllReduceMaxBytes) stream (when
/// the group lives on one host). Measured on two ranks against the message algorithms (below
/// 2 MiB) and the RMA one: 16 KiB 4.0 against 8.2 µs, 64 KiB 10.4 against 24.5 µs, 1 MiB 179-197
/// against 267-280 µs, 2 MiB 382-396 against 448-450 µs, but 4 MiB 755-762 against 692-716 µs
/// and 16 MiB 2.8 against 2.4-2.5 ms (docs/collectives.md). At 8 KiB they are even.
inline constexpr size_t kStreamAllReduceMinBytes = 8 * 1024;
inline constexpr size_t kStreamAllReduceMaxBytes = 4 * 1024 * 1024;
bool UseStreamAllReduce(const Member& m, size_t bytes);

/// Reduces and ReduceScatters of buffers from kStreamAllReduceMinBytes (the whole buffer; for
/// ReduceScatter all the blocks) stream, at any size above. Measured on two ranks against the
/// message algorithms: Reduce 1 MiB 185 against 273 µs, 16 MiB 2.4 against 7.4 ms, 64 MiB 14.5
/// against 33.8 ms; ReduceScatter 16 MiB 2.6 against 3.1 ms, 64 MiB 17.1 against 33.6 ms; even at
/// 64 KiB (docs/collectives.md).
bool UseStreamReduce(const Member& m, size_t bytes);

/// The reductions, `count` elements (at least one per member; for ReduceScatter per block). When
/// some member has no outbox, they return Ok with *ran false after the size handshake, and the
/// caller runs another algorithm (every member decides the same).
Status StreamAllReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op, bool* ran);
Status StreamReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op, int root,
                    bool* ran);
Status StreamReduceScatter(Member& m, const void* send, void* recv, size_t count, DataType type,
                           ReduceOp op, bool* ran);
Status StreamBroadcast(Member& m, void* data, size_t bytes, int root);
Status StreamAllGather(Member& m, const void* send, void* recv, size_t bytes);

}  // namespace prism::collective
