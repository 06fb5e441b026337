#pragma once
// Member: one member's view of a group incarnation (its index, the process rank of every member,
// the incarnation's epoch), the operation numbering it shares with the other members, the
// failure state, and the queue that runs its asynchronous operations in issue order.
//
// Thread contract: the owning member's calls come from one thread at a time; Fail() may come from
// any thread (progress context included).

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "mailbox.h"
#include "prism/collective/collective.h"
#include "prism/common/futex.h"
#include "prism/common/result.h"
#include "prism/runtime/internal/services.h"
#include "shm_inbox.h"
#include "shm_stream.h"

namespace prism::collective {

class NcclComm;

struct Work::State {
  std::atomic<bool> done{false};
  Status status;
  Event event;
};

class Member {
 public:
  Member(std::string name, Backend backend, int world_size, int rank, uint64_t epoch,
         std::vector<Rank> ranks, GroupOptions options);
  ~Member();
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  const std::string& name() const { return name_; }
  Backend backend() const { return backend_; }
  int world_size() const { return world_size_; }
  int rank() const { return rank_; }
  uint64_t epoch() const { return epoch_; }
  Rank process_of(int member) const { return ranks_[static_cast<size_t>(member)]; }
  const std::vector<Rank>& ranks() const { return ranks_; }
  uint64_t generation() const { return generation_; }
  NcclComm* nccl() { return nccl_.get(); }
  void set_nccl(std::unique_ptr<NcclComm> comm);

  /// Marks the incarnation failed (every pending and later operation fails with `why`).
  void Fail(const std::string& why);
  /// The failure, if any.
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  Status failure() const;

  /// Runs `body` as this member's next operation: inline (blocking) or on the member's queue
  /// (async). The destructor lets queued bodies run (they check failed() and fail at once) and
  /// joins their thread, so bodies may refer to the member by plain pointer.
  using Body = std::function<Status()>;
  Work Run(Body body, bool async);
  /// Runs `body` now on the calling thread, after the member's earlier async operations.
  template <typename F>
  Status RunNow(const F& body) {
    // Only this member's thread queues operations: none pending now means none will be.
    if (pending_.load(std::memory_order_acquire) != 0) WaitForQueue();
    return body();  // bodies check failed() themselves (api.cc), to name the operation
  }

  /// The next operation number (collectives), or the next message number towards/from a peer.
  uint64_t NextSeq() { return next_seq_++; }
  uint64_t NextSendSeq(int peer) { return (uint64_t{1} << 63) | send_seq_[peer]++; }
  uint64_t NextRecvSeq(int peer) { return (uint64_t{1} << 63) | recv_seq_[peer]++; }

  // Messaging for the algorithms (HostOp below wraps these per operation).
  std::shared_ptr<RecvOp> PostRecv(int src, uint64_t seq, uint32_t tag, void* dst, size_t size);
  Result<std::shared_ptr<SendOp>> Send(int dst, uint64_t seq, uint32_t tag,
                                       std::span<const std::byte> data);
  /// Waits until `ready()`, the failure of the group, or the operation timeout.
  Status WaitFor(const std::function<bool()>& ready);
  /// Waits (polling, then sleeping) until `ready()` or `max_ns` passed, whether or not the group
  /// failed: for an operation that ends early and must let its transfers finish first.
  void Drain(const std::function<bool()>& ready, int64_t max_ns);
  /// A workspace of at least `bytes` kept between operations (index 0..3).
  std::byte* Scratch(int index, size_t bytes);

  /// True when every member lives in its own process and all those processes share this host:
  /// then members can read each other's registered buffers with RMA gets (rma_algorithms).
  bool all_on_host() const { return all_on_host_; }
  /// Small messages to (and from) the members whose inbox `inbox` could map go through shared
  /// memory from now on (Registry::Join, all_on_host groups).
  void AttachInbox(std::unique_ptr<ShmInbox> inbox);
  /// The outboxes for bulk data (shm_stream.h): set when this member mapped every other member's
  /// segment (AttachInbox), else null.
  ShmStream* stream() { return stream_.get(); }
  /// Waits for `ready()`, which only shared memory changes (the outboxes): polls, then yields the
  /// core between polls (no sleep on the member's event, which nothing would wake), until ready,
  /// the failure of the group, or the operation timeout.
  Status Spin(const std::function<bool()>& ready);
  /// Removes the inbox's name once every member mapped it.
  void UnlinkInbox() {
    if (inbox_) inbox_->Unlink();
  }
  transport::Transport& transport() { return transport_; }
  /// Reads `size` bytes at `remote_address` of member `src`'s process (packed `rkey`) into
  /// `local`; the op completes (and wakes WaitFor) when the bytes are there or the read failed.
  std::shared_ptr<SendOp> Get(int src, uint64_t remote_address, std::span<const std::byte> rkey,
                              void* local, size_t size);

  /// How this member reads member j's exposed buffers in the RMA algorithms: not probed yet, with
  /// process_vm_readv (one kernel copy, rma_algorithms.cc), or with the transport's RMA gets. Set
  /// by the first RMA operation that reads member j; kept for the incarnation.
  enum class PeerRead : uint8_t { kUnknown, kCma, kRma };
  PeerRead peer_read(int j) const { return peer_read_[static_cast<size_t>(j)]; }
  void set_peer_read(int j, PeerRead how) { peer_read_[static_cast<size_t>(j)] = how; }

 private:
  /// The error of a wait that ended without its condition: Prism shutting down, else the
  /// operation timeout (WaitFor, Spin).
  Status WaitEnded(bool shutting_down) const;
  void WorkerLoop();
  void WaitForQueue();
  void PollInbox();
  /// Receives matched here rather than in the Mailbox: up to a slot's size, from a member whose
  /// inbox this member mapped (its messages come through this member's inbox).
  bool LocalFrom(int src, size_t size) const {
    return inbox_ && inbox_->connected(src) && size <= ShmInbox::kSlotBytes;
  }
  /// Local receives whose message came through the transport after all (the sender's ring was
  /// full, or it could not map this member's inbox): taken from the Mailbox.
  void TakeFallbacks();
  friend class HostOp;
  void CancelLocal(const std::shared_ptr<RecvOp>& op);

  const std::string name_;
  const Backend backend_;
  const int world_size_;
  const int rank_;
  const uint64_t epoch_;
  const std::vector<Rank> ranks_;
  const GroupOptions options_;
  const uint64_t generation_;
  internal::RuntimeLease lease_;
  transport::Transport& transport_;
  std::shared_ptr<Event> event_ = std::make_shared<Event>();
  bool all_on_host_ = false;
  std::unique_ptr<ShmInbox> inbox_;
  std::unique_ptr<ShmStream> stream_;
  // Local matching (member's thread only): posted receives, and inbox messages that came first.
  struct LocalMessage {
    MessageKey key;
    std::vector<std::byte> data;
  };
  std::vector<std::shared_ptr<RecvOp>> local_posted_;
  std::vector<LocalMessage> local_arrived_;
  std::vector<PeerRead> peer_read_;  // by member (member's thread only)

  uint64_t next_seq_ = 0;
  std::map<int, uint64_t> send_seq_;
  std::map<int, uint64_t> recv_seq_;

  std::atomic<bool> failed_{false};
  mutable std::mutex failure_mu_;
  std::string failure_;

  std::unique_ptr<NcclComm> nccl_;
  std::vector<std::byte> scratch_[4];

  // Asynchronous operations: run in issue order by one thread, started on first use.
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::pair<Body, std::shared_ptr<Work::State>>> queue_;
  std::atomic<int> pending_{0};  // queued + running (changed under queue_mu_)
  bool stopping_ = false;
  std::thread worker_;
};

/// One operation's outstanding messages: post, send, then wait for all (or one).
class HostOp {
 public:
  HostOp(Member& member, uint64_t seq) : member_(member), seq_(seq) {}
  ~HostOp();
  HostOp(const HostOp&) = delete;
  HostOp& operator=(const HostOp&) = delete;

  std::shared_ptr<RecvOp> Recv(int src, uint32_t tag, void* dst, size_t size);
  Status Send(int dst, uint32_t tag, const void* data, size_t size);
  /// Waits for one receive.
  Status Wait(const std::shared_ptr<RecvOp>& op);
  /// Waits for every receive and send issued so far.
  Status WaitAll();
  /// Sends issued so far, and a wait for the first `n` of them.
  size_t sends() const { return sends_.size(); }
  Status WaitSends(size_t n);
  Member& member() { return member_; }

 private:
  Member& member_;
  uint64_t seq_;
  std::vector<std::shared_ptr<RecvOp>> recvs_;
  std::vector<std::shared_ptr<SendOp>> sends_;
};

}  // namespace prism::collective
