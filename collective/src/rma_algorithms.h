#pragma once
// Large-message algorithms for groups whose members all live in distinct processes of one host
// (Member::all_on_host): every member registers its user buffer with UCX, sends the packed remote
// key to the others in a small message, and the members then read what they need straight out of
// each other's buffers. No data goes through the message algorithms' chunked active-message
// rendezvous. The descriptor also carries the owner's process id: a member reads another's buffer
// with Linux process_vm_readv (one kernel copy, on the reader's thread) when a probe on the first
// operation of the incarnation showed it works between the two processes (it reads back a random
// token at a known address of the owner: EPERM under a restrictive ptrace_scope, or a pid from
// another namespace, fail it); otherwise with RMA gets. (With UCX 1.13's default protocols these
// gets on one host are served in software: the target's progress thread copies the data into the
// shared-memory FIFO and the reader's copies it out; see docs/collectives.md.)
//
// - AllReduce: member r reads segment r of every other member's buffer chunk by chunk into a
//   cache-sized scratch and reduces it into its own segment r (with gets double-buffered: the get
//   of the next chunk is issued before the current one is reduced); it then tells the others its
//   segment is final, and reads every other member's final segment straight into place. Each
//   segment is reduced by one member only, so all members end bit for bit equal.
// - Broadcast: every non-root reads the root's buffer into its own.
// - AllGather: every member reads block j of member j's send buffer into its receive buffer.
//
// Small "done" messages order the phases: a member overwrites a part of its buffer only after the
// member that reads that part said it finished, and returns only after every member said it
// finished reading its buffer (so the caller may reuse it at once).
//
// Thread contract: called by the member's executing thread only.

#include <cstddef>

#include "member.h"
#include "prism/collective/types.h"

namespace prism::collective {

/// Buffers from this size on use the RMA algorithms when the group is all on one host. Measured
/// on two ranks: at 1 MiB the message algorithms were as fast or faster (275 against 305 µs for
/// AllReduce), from 16 MiB on the RMA ones (see docs/collectives.md).
inline constexpr size_t kRmaMinBytes = 2 * 1024 * 1024;

/// True when the RMA algorithms apply to an operation of `bytes` (per member buffer) in `m`.
inline bool UseRma(const Member& m, size_t bytes) {
  return m.all_on_host() && bytes >= kRmaMinBytes;
}

Status RmaAllReduce(Member& m, void* data, size_t count, DataType type, ReduceOp op);
Status RmaBroadcast(Member& m, void* data, size_t bytes, int root);
Status RmaAllGather(Member& m, const void* send, void* recv, size_t bytes);

}  // namespace prism::collective
