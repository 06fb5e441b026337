#pragma once
// ShmStream: bulk data between members that live in distinct processes of one host, streamed
// through shared memory in cache-sized chunks (the reductions and the large Broadcast and
// AllGather, stream_algorithms.cc).
//
// Each member owns one outbox in its shared-memory segment (ShmInbox reserves the room): a ring
// of kSlots slots of kChunkBytes, the count of chunks the owner published (`head`), and for every
// other member the count of chunks it released (`tail[j]`). The owner writes chunk n into slot
// n % kSlots once every other member released chunk n - kSlots, then publishes it (release store
// of head, after the chunk's stamp); a reader copies chunk n out once head > n, checks its stamp,
// then releases it (release store of its tail). So the owner copies its data once into a slot that
// stays in the cache, every reader copies it once out of it, and owner and readers work at the same
// time. Every member reads every chunk its peers publish, in order (the algorithms take and drop
// the chunks they do not need), which keeps the counts in step across operations; the stamps let
// a reader tell when they are not. An operation that breaks off half way fails the group
// incarnation (the counts no longer match).
//
// Thread contract: one thread at a time per member (the member's operation thread); the counts
// are lock-free atomics in shared memory.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace prism::collective {

class ShmStream {
 public:
  /// Bytes per chunk (a slot) and slots per outbox.
  static constexpr size_t kChunkBytes = 256 * 1024;
  static constexpr uint64_t kSlots = 8;

  /// Size of one member's outbox in a group of `world_size` (a multiple of 4096).
  static size_t AreaBytes(int world_size);
  /// Initializes a fresh outbox at `area` (4096-aligned, AreaBytes long).
  static void Format(std::byte* area, int world_size);

  /// `areas[j]`: member j's outbox as mapped in this process (`areas[index]` is this member's).
  ShmStream(int index, std::vector<std::byte*> areas);

  /// Producer: true when the slot of this member's next chunk is free (every other member
  /// released the chunk kSlots before it).
  bool Writable();
  /// Producer: where the next chunk goes (only when Writable()).
  std::byte* NextSlot() const;
  /// Producer: the next chunk is in its slot; the readers may take it. `stamp` names the chunk
  /// (the algorithms use the operation's number and the chunk's index), so that a reader can tell
  /// a chunk it did not expect (Stamped).
  void Publish(uint64_t stamp);

  /// Reader: chunks member j published that this member has not released yet (more than kSlots
  /// means j broke the protocol).
  uint64_t Readable(int j) const;
  /// Reader: member j's oldest chunk this member has not released (only when Readable(j) > 0).
  const std::byte* Peek(int j) const;
  /// Reader: the stamp member j published that chunk with.
  uint64_t Stamped(int j) const;
  /// Reader: done with that chunk; j may reuse its slot.
  void Release(int j);

 private:
  const int index_;
  const std::vector<std::byte*> areas_;
  uint64_t published_ = 0;          // this member's head
  uint64_t released_by_all_ = 0;    // the smallest tail of the others, as last read
  std::vector<uint64_t> consumed_;  // this member's tail in each member's outbox
};

}  // namespace prism::collective
