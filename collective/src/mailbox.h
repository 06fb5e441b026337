#pragma once
// Mailbox: this process's matching of collective messages to the receives members posted.
//
// A message is addressed by MessageKey (group incarnation, destination member, source member,
// operation number, step tag). A receive posted before its message arrives gets the data placed
// straight into the user's buffer (for bulk messages, by UCX itself: zero-copy); a message that
// arrives first waits in the mailbox as a copy. Members living in this process exchange messages
// through the mailbox without the network.
//
// Failure: FailEpoch ends every pending receive of a group incarnation with an error and makes
// later receives of it fail at once.
//
// Thread contract: thread-safe; the On* entry points run in the transport's progress context.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "prism/common/futex.h"
#include "prism/common/result.h"
#include "prism/runtime/internal/services.h"
#include "prism/transport/transport.h"

namespace prism::collective {

/// Message types of the collectives.
enum CollectiveMessage : transport::MessageType {
  kCollData = transport::kCollectiveTypesBegin,      ///< header + data inline (small messages)
  kCollKick = transport::kCollectiveTypesBegin + 1,  ///< wake a member (epoch, member index)
  kCollBulk = internal::kServiceBulkTypesBegin,      ///< header as meta, data as a bulk body
};

struct MessageKey {
  uint64_t epoch = 0;  ///< group incarnation (unique in the job)
  uint32_t dst = 0;    ///< member index in the group
  uint32_t src = 0;
  uint64_t seq = 0;  ///< operation number (collectives) or pair message number (Send/Recv)
  uint32_t tag = 0;  ///< step and chunk inside the operation
  friend bool operator<(const MessageKey& a, const MessageKey& b) {
    return std::tie(a.epoch, a.dst, a.src, a.seq, a.tag) <
           std::tie(b.epoch, b.dst, b.src, b.seq, b.tag);
  }
};

/// A pending receive; Wait through the transport (Mailbox::WaitAll).
struct RecvOp {
  MessageKey key;
  bool local = false;  ///< matched by its member from the shared-memory inbox (Member::PostRecv)
  std::byte* dst = nullptr;
  size_t size = 0;
  std::atomic<bool> done{false};
  Status status;
  std::shared_ptr<Event> event;
};

/// A pending send of a bulk body (small sends complete at once).
struct SendOp {
  std::atomic<bool> done{false};
  Status status;
  std::shared_ptr<Event> event;
};

class Mailbox {
 public:
  /// The process's mailbox; registers its message handlers on first use.
  static Mailbox& Get();

  /// Posts a receive of exactly `size` bytes into `dst`; `event` is notified on completion.
  std::shared_ptr<RecvOp> PostRecv(const MessageKey& key, void* dst, size_t size,
                                   std::shared_ptr<Event> event);
  /// Sends `data` to member key.dst living on process `rank`. The data must stay valid until the
  /// returned op is done (a null op: done already, or it was copied).
  Result<std::shared_ptr<SendOp>> Send(transport::Transport& transport, Rank rank,
                                       const MessageKey& key, std::span<const std::byte> data,
                                       std::shared_ptr<Event> event);

  /// Withdraws a receive that is not done, so that a late message never writes to its buffer
  /// (an operation that ended early). A bulk body already being placed cannot be withdrawn.
  void Cancel(const std::shared_ptr<RecvOp>& op);

  /// Matches a message that arrived (from the network, a member of this process or a
  /// shared-memory inbox) to its posted receive, or keeps a copy until it is posted.
  void Deliver(const MessageKey& key, std::span<const std::byte> data);

  /// Completes the receive posted for `key` with `data`; false when none is posted.
  bool DeliverIfPosted(const MessageKey& key, std::span<const std::byte> data);
  /// Takes the complete message kept for `key` (it arrived before its receive), if any.
  bool TakeArrived(const MessageKey& key, std::vector<std::byte>* data);
  /// Copies `data` into a matched receive (or fails it: sizes differ) and completes it.
  static void Fill(const std::shared_ptr<RecvOp>& op, const MessageKey& key,
                   std::span<const std::byte> data);

  /// Members woken by kicks (ShmInbox): `event` is notified when member `index` of `epoch`
  /// (living in this process) is kicked.
  void AddWaiter(uint64_t epoch, uint32_t index, std::shared_ptr<Event> event);
  void RemoveWaiter(uint64_t epoch, uint32_t index);
  /// Wakes member `index` of `epoch` living on process `rank`.
  Status Kick(transport::Transport& transport, Rank rank, uint64_t epoch, uint32_t index);

  /// Ends the receives of `epoch` with `status`; later receives of it fail at once.
  void FailEpoch(uint64_t epoch, const Status& status);
  /// Forgets an ended incarnation's unmatched messages.
  void DropEpoch(uint64_t epoch);

  /// Bytes above which data travels as a bulk body (zero-copy) instead of inline.
  static constexpr size_t kInlineLimit = 16 * 1024;

 private:
  struct Arrived {
    std::vector<std::byte> data;
    bool complete = false;            // a bulk body may still be in flight
    std::shared_ptr<RecvOp> waiting;  // a receive posted while the body was in flight
  };

  Mailbox();
  void OnData(Rank source, std::span<const std::byte> payload);
  void OnBulk(Rank source, std::span<const std::byte> meta, transport::IncomingBulk& body);
  void OnKick(Rank source, std::span<const std::byte> payload);
  static void Complete(const std::shared_ptr<RecvOp>& op, Status status);

  std::mutex mu_;
  std::map<MessageKey, std::shared_ptr<RecvOp>> posted_;
  std::map<MessageKey, std::shared_ptr<Arrived>> arrived_;
  std::unordered_map<uint64_t, Status> failed_;

  std::mutex waiters_mu_;
  std::map<std::pair<uint64_t, uint32_t>, std::shared_ptr<Event>> waiters_;
};

/// Encodes/decodes the 36-byte message header.
std::vector<std::byte> EncodeKey(const MessageKey& key, uint64_t size);
bool DecodeKey(std::span<const std::byte> in, MessageKey* key, uint64_t* size, size_t* used);

}  // namespace prism::collective
