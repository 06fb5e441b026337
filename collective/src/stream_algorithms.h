#pragma once
// Broadcast and AllGather of large buffers for groups whose members all live in distinct
// processes of one host, streamed through the members' shared-memory outboxes (shm_stream.h):
//
// - Broadcast: the root copies its buffer chunk by chunk into its outbox; every other member
//   copies each chunk out into its buffer as soon as it is published. Root and readers copy at
//   the same time, each once; the root returns when it published the last chunk (its buffer is
//   free again then, as MPI's root's is when its send completes).
// - AllGather: every member copies its block into its outbox (and from there into its own place
//   in the result), and copies every other member's chunks out into their places, interleaving
//   the two so that nobody waits for a full outbox.
//
// A user buffer is only ever read and written by its own process: nothing is exposed or
// registered, so an operation that ends early (a member died) returns at once. Results of 32 MiB
// and more are written with streaming stores (copy_kernels.h).
//
// First the members exchange their buffer sizes and whether they mapped every outbox (one small
// message to each other member): sizes that differ fail the operation on every member before any
// data moves; when some member lacks an outbox, every member runs the RMA algorithm instead
// (rma_algorithms.h). An operation that breaks off once data moves (a member died, a timeout)
// fails the group incarnation, since the outboxes' counts no longer match.
//
// Thread contract: called by the member's executing thread only.

#include <cstddef>

#include "member.h"

namespace prism::collective {

/// True when the stream algorithms apply to a Broadcast or AllGather of `bytes` (per member
/// buffer) in `m`: the RMA algorithms' condition (rma_algorithms.h).
bool UseStream(const Member& m, size_t bytes);

/// AllGathers whose result is smaller than this use the RMA algorithm even when the outboxes are
/// there: measured on two ranks, a 16 MiB AllGather took 1.49 ms reading the others' buffers with
/// process_vm_readv and 1.75 ms through the outboxes, a 64 MiB one 12.1 against 9.8 ms
/// (docs/collectives.md).
inline constexpr size_t kStreamAllGatherMinBytes = 32 * 1024 * 1024;

Status StreamBroadcast(Member& m, void* data, size_t bytes, int root);
Status StreamAllGather(Member& m, const void* send, void* recv, size_t bytes);

}  // namespace prism::collective
