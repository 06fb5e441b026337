#pragma once
// ShmInbox: small messages between members that live in distinct processes of one host, through
// shared memory instead of UCX active messages (the latency of the 8-byte AllReduce).
//
// Each member owns one POSIX shared-memory segment: one single-producer ring of fixed slots per
// other member. A sender copies its message into a free slot of its ring in the receiver's
// segment and publishes it (release store of the ring head); the receiver, while it waits
// (Member::WaitFor), polls its rings and hands what it finds to the Mailbox, which matches it to
// the posted receive as it does for messages from the network. A message that does not fit a slot,
// or finds its ring full, goes through the transport instead (matching does not depend on the
// channel).
//
// Wakeups: a receiver that stops polling to sleep first clears its `polling` flag and polls once
// more; a sender publishes first and then reads the flag, and if it is clear sends a tiny "kick"
// through the transport, which wakes the receiver's event (Dekker: one of the two always sees the
// other).
//
// The segment also holds the member's outbox for bulk data (shm_stream.h), which the other
// members map along with the rings, unless the group opted out (GroupOptions::shm_streams) or
// /dev/shm had no room for it. Create() reserves every page of the segment (posix_fallocate),
// so that a full /dev/shm is an error there rather than a SIGBUS when a page is first touched.
//
// Life: Create() makes this member's segment before the group's rendezvous (its name travels in
// the rendezvous value); Connect() maps the other members' segments after it; once every member
// has connected (a barrier), Unlink() removes the name, so nothing is left in /dev/shm even if a
// process dies later. The destructor unmaps (and unlinks if that did not happen yet).
//
// Thread contract: Send for one destination from one thread at a time (the member's thread);
// Poll from the member's thread; the flag and rings are lock-free.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prism/common/result.h"

namespace prism::collective {

class ShmInbox {
 public:
  /// Largest message a slot holds.
  static constexpr size_t kSlotBytes = 4096 - 16;
  /// Slots per ring.
  static constexpr uint64_t kSlots = 16;

  /// Creates (and maps) this member's segment for a group of `world_size`, member `index`, with
  /// its outbox when `stream` and /dev/shm has the room (the pages are reserved here).
  static Result<std::unique_ptr<ShmInbox>> Create(int world_size, int index, bool stream);
  ~ShmInbox();
  ShmInbox(const ShmInbox&) = delete;
  ShmInbox& operator=(const ShmInbox&) = delete;

  const std::string& name() const { return name_; }
  /// Maps member j's segment (named `name`); false (and the transport is used for j) on failure.
  bool Connect(int j, const std::string& name);
  bool connected(int j) const { return peers_[static_cast<size_t>(j)].base != nullptr; }
  /// Member j's outbox (ShmStream) as mapped here: this member's own for j == index; nullptr
  /// when j's segment is not mapped or has no outbox.
  std::byte* StreamArea(int j) const;
  /// Removes this segment's name (every member has mapped it).
  void Unlink();

  /// Copies a message for member j into its ring; false when it does not fit or the ring is
  /// full. `*kick` tells whether the receiver may be asleep (send it a kick).
  bool Send(int j, uint64_t seq, uint32_t tag, std::span<const std::byte> data, bool* kick);

  /// Hands every message waiting in this member's rings to `deliver(source, seq, tag, data)`.
  /// Returns whether there was any.
  using Deliver =
      std::function<void(int src, uint64_t seq, uint32_t tag, std::span<const std::byte> data)>;
  bool Poll(const Deliver& deliver);

  /// This member polls (senders need not kick) / is about to sleep (they must).
  void SetPolling(bool polling);

 private:
  struct Mapping {
    std::byte* base = nullptr;
    size_t bytes = 0;
    bool stream = false;  // the segment has an outbox
  };
  ShmInbox(std::string name, int world_size, int index, Mapping own);

  std::string name_;
  bool linked_ = true;
  const int world_size_;
  const int index_;
  Mapping own_;
  std::vector<Mapping> peers_;
  bool polling_ = false;
};

}  // namespace prism::collective
