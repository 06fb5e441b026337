#include "member.h"

#include <fmt/format.h>

#include <set>

#include "nccl_comm.h"
#include "prism/common/clock.h"
#include "prism/transport/transport.h"

namespace prism::collective {
namespace {

// Polling before a waiting member sleeps: collectives are latency-bound at small sizes. The
// member does not lend its CPU to the worker pool meanwhile (see WaitFor).
constexpr int64_t kSpinNs = 200'000;
// Looks at the shared-memory inbox per transport poll while spinning.
constexpr int64_t kInboxPollsPerProgress = 16;

}  // namespace

Member::Member(std::string name, Backend backend, int world_size, int rank, uint64_t epoch,
               std::vector<Rank> ranks, GroupOptions options)
    : name_(std::move(name)),
      backend_(backend),
      world_size_(world_size),
      rank_(rank),
      epoch_(epoch),
      ranks_(std::move(ranks)),
      options_(options),
      generation_(internal::RuntimeGeneration()),
      lease_(internal::LeaseRuntime()),
      transport_(internal::RankTransport()) {
  std::set<Rank> distinct(ranks_.begin(), ranks_.end());
  all_on_host_ = world_size_ > 1 && distinct.size() == ranks_.size();
  for (Rank r : ranks_) {
    if (r != transport_.rank() && !transport_.SameHost(r)) all_on_host_ = false;
  }
  peer_read_.assign(ranks_.size(), PeerRead::kUnknown);
}

Member::~Member() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();  // queued operations run (and fail) first
  nccl_.reset();
  if (inbox_) Mailbox::Get().RemoveWaiter(epoch_, static_cast<uint32_t>(rank_));
  Mailbox::Get().DropEpoch(epoch_);
}

void Member::set_nccl(std::unique_ptr<NcclComm> comm) { nccl_ = std::move(comm); }

void Member::AttachInbox(std::unique_ptr<ShmInbox> inbox) {
  Mailbox::Get().AddWaiter(epoch_, static_cast<uint32_t>(rank_), event_);
  inbox_ = std::move(inbox);
  std::vector<std::byte*> areas;
  for (int j = 0; j < world_size_; ++j) {
    areas.push_back(inbox_->StreamArea(j));
    if (areas.back() == nullptr) return;  // j's segment is not mapped: no bulk streams
  }
  stream_ = std::make_unique<ShmStream>(rank_, std::move(areas));
}

namespace {
bool SameKey(const MessageKey& a, const MessageKey& b) {
  return a.seq == b.seq && a.src == b.src && a.tag == b.tag && a.epoch == b.epoch && a.dst == b.dst;
}
}  // namespace

void Member::PollInbox() {
  inbox_->Poll([this](int src, uint64_t seq, uint32_t tag, std::span<const std::byte> data) {
    MessageKey key{epoch_, static_cast<uint32_t>(rank_), static_cast<uint32_t>(src), seq, tag};
    for (auto it = local_posted_.begin(); it != local_posted_.end(); ++it) {
      if (SameKey((*it)->key, key)) {
        std::shared_ptr<RecvOp> op = std::move(*it);
        local_posted_.erase(it);
        Mailbox::Fill(op, key, data);
        return;
      }
    }
    // Not expected here yet: a receive posted in the Mailbox (this member expects more than a
    // slot: the sizes differ), or one not posted yet.
    if (Mailbox::Get().DeliverIfPosted(key, data)) return;
    local_arrived_.push_back(LocalMessage{key, std::vector<std::byte>(data.begin(), data.end())});
  });
}

void Member::TakeFallbacks() {
  std::vector<std::byte> data;
  for (size_t i = 0; i < local_posted_.size();) {
    if (Mailbox::Get().TakeArrived(local_posted_[i]->key, &data)) {
      std::shared_ptr<RecvOp> op = std::move(local_posted_[i]);
      local_posted_.erase(local_posted_.begin() + static_cast<std::ptrdiff_t>(i));
      Mailbox::Fill(op, op->key, data);
    } else {
      ++i;
    }
  }
}

void Member::CancelLocal(const std::shared_ptr<RecvOp>& op) { std::erase(local_posted_, op); }

void Member::Fail(const std::string& why) {
  {
    std::lock_guard lock(failure_mu_);
    if (failed_.load()) return;
    failure_ = why;
    failed_.store(true, std::memory_order_release);
  }
  if (nccl_) nccl_->Abort();
  Mailbox::Get().FailEpoch(epoch_, MakeError(ErrorCode::kPeerDead, why));
  event_->Notify();
}

Status Member::failure() const {
  std::lock_guard lock(failure_mu_);
  if (!failed_.load()) return Status::Ok();
  return MakeError(ErrorCode::kPeerDead, failure_);
}

void Member::WaitForQueue() {
  std::unique_lock lock(queue_mu_);
  queue_cv_.wait(lock, [&] { return pending_.load() == 0; });  // earlier async operations first
}

Work Member::Run(Body body, bool async) {
  auto state = std::make_shared<Work::State>();
  if (!async) {
    state->status = RunNow(body);
    state->done.store(true);
    return Work(state);
  }
  {
    std::lock_guard lock(queue_mu_);
    queue_.emplace_back(std::move(body), state);
    ++pending_;
    if (!worker_.joinable()) worker_ = std::thread([this] { WorkerLoop(); });
  }
  queue_cv_.notify_all();
  return Work(state);
}

void Member::WorkerLoop() {
  std::unique_lock lock(queue_mu_);
  for (;;) {
    queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;
    auto [body, state] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    Status s = body();
    state->status = std::move(s);
    state->done.store(true, std::memory_order_release);
    state->event.Notify();
    lock.lock();
    --pending_;
    queue_cv_.notify_all();
  }
}

std::shared_ptr<RecvOp> Member::PostRecv(int src, uint64_t seq, uint32_t tag, void* dst,
                                         size_t size) {
  MessageKey key{epoch_, static_cast<uint32_t>(rank_), static_cast<uint32_t>(src), seq, tag};
  const bool local = LocalFrom(src, size);
  if (local || !local_arrived_.empty()) {
    // An inbox message that came first (or, for a receive of more than a slot, one whose sender
    // sent less: the sizes differ).
    for (auto it = local_arrived_.begin(); it != local_arrived_.end(); ++it) {
      if (SameKey(it->key, key)) {
        auto op = std::make_shared<RecvOp>();
        op->key = key;
        op->dst = static_cast<std::byte*>(dst);
        op->size = size;
        op->event = event_;
        Mailbox::Fill(op, key, it->data);
        local_arrived_.erase(it);
        return op;
      }
    }
  }
  if (!local) return Mailbox::Get().PostRecv(key, dst, size, event_);
  auto op = std::make_shared<RecvOp>();
  op->key = key;
  op->local = true;
  op->dst = static_cast<std::byte*>(dst);
  op->size = size;
  op->event = event_;
  local_posted_.push_back(op);
  return op;
}

Result<std::shared_ptr<SendOp>> Member::Send(int dst, uint64_t seq, uint32_t tag,
                                             std::span<const std::byte> data) {
  if (inbox_) {
    bool kick = false;
    if (inbox_->Send(dst, seq, tag, data, &kick)) {
      if (kick) {  // the receiver may sleep: wake it (its process notifies its event)
        if (Status s = Mailbox::Get().Kick(transport_, process_of(dst), epoch_,
                                           static_cast<uint32_t>(dst));
            !s) {
          return MakeError(s.code(), fmt::format("waking member {} (rank {}): {}", dst,
                                                 process_of(dst), s.error().message));
        }
      }
      return std::shared_ptr<SendOp>();
    }
  }
  MessageKey key{epoch_, static_cast<uint32_t>(dst), static_cast<uint32_t>(rank_), seq, tag};
  auto r = Mailbox::Get().Send(transport_, process_of(dst), key, data, event_);
  if (!r) {
    return MakeError(r.error().code, fmt::format("sending to member {} (rank {}): {}", dst,
                                                 process_of(dst), r.error().message));
  }
  return r;
}

Status Member::WaitFor(const std::function<bool()>& ready) {
  // Latency-bound waits end within microseconds: poll first, without lending this thread's CPU
  // to the worker pool (BlockingScope costs a lock there, and wakes an idle worker that then
  // spins on the transport and competes for the cores).
  if (inbox_) inbox_->SetPolling(true);
  Backoff backoff;  // yields the core between polls after a few µs: the members may share cores
  for (int64_t start = NowNanos(), i = 0;; ++i) {
    if (inbox_) PollInbox();
    if (ready()) return Status::Ok();
    if (failed()) return failure();
    backoff.Pause();
    // A transport poll (UCX also polls its tcp endpoints: a system call) and a clock read cost
    // far more than a look at the inbox, which brings the small messages: with an inbox, do them
    // less often.
    if (!inbox_ || i % kInboxPollsPerProgress == 0) {
      transport_.TryProgress();
      if (!local_posted_.empty()) TakeFallbacks();
      if (NowNanos() - start > kSpinNs) break;
    }
  }
  // Then sleep (the progress thread polls meanwhile): senders to the inbox kick this thread
  // (they see the flag clear, or this thread sees their message when it polls next).
  if (inbox_) inbox_->SetPolling(false);
  int64_t deadline = options_.timeout_ms < 0 ? -1 : NowNanos() + options_.timeout_ms * 1'000'000;
  internal::BlockingScope blocking;
  bool ok = transport_.WaitUntil(
      [&] {
        if (inbox_) PollInbox();
        if (!local_posted_.empty()) TakeFallbacks();
        return ready() || failed();
      },
      *event_, deadline, /*spin_ns=*/0);
  if (ready()) return Status::Ok();
  if (failed()) return failure();
  return WaitEnded(!ok && !transport_.running());
}

Status Member::WaitEnded(bool shutting_down) const {
  if (shutting_down) return MakeError(ErrorCode::kCancelled, "Prism is shutting down");
  return MakeError(ErrorCode::kTimeout,
                   fmt::format("waited more than {} ms (GroupOptions::timeout_ms) for the others",
                               options_.timeout_ms));
}

Status Member::Spin(const std::function<bool()>& ready) {
  Backoff backoff;
  int64_t deadline = options_.timeout_ms < 0 ? -1 : NowNanos() + options_.timeout_ms * 1'000'000;
  for (int64_t i = 0;; ++i) {
    if (ready()) return Status::Ok();
    if (failed()) return failure();
    backoff.Pause();
    if (i % 1024 == 1023) {  // a clock read per many polls
      if (!transport_.running()) return WaitEnded(/*shutting_down=*/true);
      if (deadline >= 0 && NowNanos() > deadline) return WaitEnded(/*shutting_down=*/false);
    }
  }
}

void Member::Drain(const std::function<bool()>& ready, int64_t max_ns) {
  if (inbox_) inbox_->SetPolling(false);
  transport_.WaitUntil(
      [&] {
        if (inbox_) PollInbox();
        if (!local_posted_.empty()) TakeFallbacks();
        return ready();
      },
      *event_, NowNanos() + max_ns, kSpinNs);
}

std::byte* Member::Scratch(int index, size_t bytes) {
  auto& buffer = scratch_[index];
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

std::shared_ptr<SendOp> Member::Get(int src, uint64_t remote_address,
                                    std::span<const std::byte> rkey, void* local, size_t size) {
  auto op = std::make_shared<SendOp>();
  op->event = event_;
  transport_.Get(process_of(src), remote_address, rkey, local, size, [op](Status status) {
    op->status = std::move(status);
    op->done.store(true, std::memory_order_release);
    op->event->Notify();
  });
  return op;
}

HostOp::~HostOp() {
  // An operation that ended early (an error) leaves receives posted into buffers that are about
  // to go away: withdraw them.
  for (auto& op : recvs_) {
    if (op->done.load(std::memory_order_acquire)) continue;
    if (op->local) {
      member_.CancelLocal(op);
    } else {
      Mailbox::Get().Cancel(op);
    }
  }
}

std::shared_ptr<RecvOp> HostOp::Recv(int src, uint32_t tag, void* dst, size_t size) {
  auto op = member_.PostRecv(src, seq_, tag, dst, size);
  recvs_.push_back(op);
  return op;
}

Status HostOp::Send(int dst, uint32_t tag, const void* data, size_t size) {
  auto r = member_.Send(dst, seq_, tag, std::span(static_cast<const std::byte*>(data), size));
  if (!r) return r.error();
  if (*r) sends_.push_back(*r);
  return Status::Ok();
}

Status HostOp::Wait(const std::shared_ptr<RecvOp>& op) {
  if (!op->done.load(std::memory_order_acquire)) {
    if (Status s = member_.WaitFor([&] { return op->done.load(std::memory_order_acquire); }); !s) {
      return s;
    }
  }
  if (!op->status) {
    return op->status;
  }
  return Status::Ok();
}

Status HostOp::WaitAll() {
  for (auto& op : recvs_) {
    if (Status s = Wait(op); !s) return s;
  }
  recvs_.clear();
  return WaitSends(sends_.size());
}

Status HostOp::WaitSends(size_t n) {
  for (size_t i = 0; i < n && i < sends_.size(); ++i) {
    auto& op = sends_[i];
    if (!op->done.load(std::memory_order_acquire)) {
      if (Status s = member_.WaitFor([&] { return op->done.load(std::memory_order_acquire); });
          !s) {
        return s;
      }
    }
    if (!op->status) {
      return MakeError(op->status.code(),
                       fmt::format("a send failed: {}", op->status.error().message));
    }
  }
  return Status::Ok();
}

}  // namespace prism::collective
