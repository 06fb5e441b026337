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
  /// (async). The destructor lets queued bodies run (they fail once the member failed) and joins
  /// their thread, so bodies may refer to the member by plain pointer.
  using Body = std::function<Status()>;
  Work Run(Body body, bool async);

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
  /// A workspace of at least `bytes` kept between operations (index 0..3).
  std::byte* Scratch(int index, size_t bytes);

 private:
  void WorkerLoop();

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
  int pending_ = 0;  // queued + running
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
