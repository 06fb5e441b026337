#include "member.h"

#include <fmt/format.h>

#include "nccl_comm.h"
#include "prism/common/clock.h"
#include "prism/transport/transport.h"

namespace prism::collective {
namespace {

// Polling before a waiting member sleeps: collectives are latency-bound at small sizes.
constexpr int64_t kSpinNs = 200'000;

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
      transport_(internal::RankTransport()) {}

Member::~Member() {
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (worker_.joinable()) worker_.join();  // queued operations run (and fail) first
  nccl_.reset();
  Mailbox::Get().DropEpoch(epoch_);
}

void Member::set_nccl(std::unique_ptr<NcclComm> comm) { nccl_ = std::move(comm); }

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

Work Member::Run(Body body, bool async) {
  auto state = std::make_shared<Work::State>();
  if (!async) {
    std::unique_lock lock(queue_mu_);
    queue_cv_.wait(lock, [&] { return pending_ == 0; });  // earlier async operations first
    lock.unlock();
    Status s = failed() ? failure() : body();
    state->status = std::move(s);
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
    Status s = failed() ? failure() : body();
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
  return Mailbox::Get().PostRecv(key, dst, size, event_);
}

Result<std::shared_ptr<SendOp>> Member::Send(int dst, uint64_t seq, uint32_t tag,
                                             std::span<const std::byte> data) {
  MessageKey key{epoch_, static_cast<uint32_t>(dst), static_cast<uint32_t>(rank_), seq, tag};
  auto r = Mailbox::Get().Send(transport_, process_of(dst), key, data, event_);
  if (!r) {
    return MakeError(r.error().code, fmt::format("sending to member {} (rank {}): {}", dst,
                                                 process_of(dst), r.error().message));
  }
  return r;
}

Status Member::WaitFor(const std::function<bool()>& ready) {
  int64_t deadline = options_.timeout_ms < 0 ? -1 : NowNanos() + options_.timeout_ms * 1'000'000;
  internal::BlockingScope blocking;
  bool ok = transport_.WaitUntil([&] { return ready() || failed(); }, *event_, deadline, kSpinNs);
  if (ready()) return Status::Ok();
  if (failed()) return failure();
  if (!ok && !transport_.running()) {
    return MakeError(ErrorCode::kCancelled, "Prism is shutting down");
  }
  return MakeError(ErrorCode::kTimeout,
                   fmt::format("waited more than {} ms (GroupOptions::timeout_ms) for the others",
                               options_.timeout_ms));
}

std::byte* Member::Scratch(int index, size_t bytes) {
  auto& buffer = scratch_[index];
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

HostOp::~HostOp() = default;

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
