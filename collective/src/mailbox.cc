#include "mailbox.h"

#include <fmt/format.h>

#include <cstring>

#include "prism/common/logging.h"
#include "prism/common/wire.h"
#include "prism/runtime/internal/services.h"

namespace prism::collective {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("collective");
  return logger;
}

constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 4 + 8;

}  // namespace

std::vector<std::byte> EncodeKey(const MessageKey& key, uint64_t size) {
  std::vector<std::byte> out;
  out.reserve(kHeaderBytes + (size <= Mailbox::kInlineLimit ? size : 0));
  WireWriter w(out);
  w.U64(key.epoch);
  w.U32(key.dst);
  w.U32(key.src);
  w.U64(key.seq);
  w.U32(key.tag);
  w.U64(size);
  return out;
}

bool DecodeKey(std::span<const std::byte> in, MessageKey* key, uint64_t* size, size_t* used) {
  if (in.size() < kHeaderBytes) return false;
  WireReader r(in.first(kHeaderBytes));
  key->epoch = r.U64();
  key->dst = r.U32();
  key->src = r.U32();
  key->seq = r.U64();
  key->tag = r.U32();
  *size = r.U64();
  *used = kHeaderBytes;
  return r.AtEnd();
}

Mailbox& Mailbox::Get() {
  static Mailbox* mailbox = new Mailbox();  // never destroyed: handlers may run at exit
  return *mailbox;
}

Mailbox::Mailbox() {
  internal::SetServiceHandler(kCollData, [this](Rank source, std::span<const std::byte> payload) {
    OnData(source, payload);
  });
  internal::SetServiceHandler(kCollKick, [this](Rank source, std::span<const std::byte> payload) {
    OnKick(source, payload);
  });
  internal::SetServiceBulkHandler(
      kCollBulk, [this](Rank source, std::span<const std::byte> meta,
                        transport::IncomingBulk& body) { OnBulk(source, meta, body); });
}

void Mailbox::Complete(const std::shared_ptr<RecvOp>& op, Status status) {
  op->status = std::move(status);
  op->done.store(true, std::memory_order_release);
  op->event->Notify();
}

std::shared_ptr<RecvOp> Mailbox::PostRecv(const MessageKey& key, void* dst, size_t size,
                                          std::shared_ptr<Event> event) {
  auto op = std::make_shared<RecvOp>();
  op->key = key;
  op->dst = static_cast<std::byte*>(dst);
  op->size = size;
  op->event = std::move(event);
  std::shared_ptr<Arrived> arrived;
  {
    std::lock_guard lock(mu_);
    if (auto f = failed_.find(key.epoch); f != failed_.end()) {
      op->status = f->second;
      op->done = true;
      return op;
    }
    auto it = arrived_.find(key);
    if (it == arrived_.end()) {
      posted_.emplace(key, op);
      return op;
    }
    arrived = it->second;
    if (!arrived->complete) {
      arrived->waiting = op;  // the body's completion copies it over (and removes the entry)
      return op;
    }
    arrived_.erase(it);
  }
  if (arrived->data.size() != size) {
    op->status = MakeError(ErrorCode::kInvalidArgument,
                           fmt::format("member {} sent {} bytes where member {} expects {}: the "
                                       "members' arguments differ",
                                       key.src, arrived->data.size(), key.dst, size));
  } else if (size != 0) {
    std::memcpy(op->dst, arrived->data.data(), size);
  }
  op->done = true;
  return op;
}

Result<std::shared_ptr<SendOp>> Mailbox::Send(transport::Transport& transport, Rank rank,
                                              const MessageKey& key,
                                              std::span<const std::byte> data,
                                              std::shared_ptr<Event> event) {
  if (rank == transport.rank()) {
    Deliver(key, data);
    return std::shared_ptr<SendOp>();
  }
  std::vector<std::byte> header = EncodeKey(key, data.size());
  if (data.size() <= kInlineLimit) {
    header.insert(header.end(), data.begin(), data.end());
    if (Status s = transport.Send(rank, kCollData, header); !s) return s.error();
    return std::shared_ptr<SendOp>();
  }
  auto op = std::make_shared<SendOp>();
  op->event = std::move(event);
  Status s = transport.SendBulk(rank, kCollBulk, header, data, [op](Status status) {
    op->status = std::move(status);
    op->done.store(true, std::memory_order_release);
    op->event->Notify();
  });
  if (!s) return s.error();
  return op;
}

void Mailbox::Deliver(const MessageKey& key, std::span<const std::byte> data) {
  std::shared_ptr<RecvOp> op;
  {
    std::lock_guard lock(mu_);
    if (failed_.count(key.epoch) != 0) return;
    auto it = posted_.find(key);
    if (it == posted_.end()) {
      auto arrived = std::make_shared<Arrived>();
      arrived->data.assign(data.begin(), data.end());
      arrived->complete = true;
      arrived_[key] = std::move(arrived);
      return;
    }
    op = it->second;
    posted_.erase(it);
    // Small copies happen under the lock, so that a Cancel (an operation that ended early and
    // frees its buffers) either withdraws the receive first or waits for the copy.
    if (data.size() <= kInlineLimit) {
      Fill(op, key, data);
      return;
    }
  }
  Fill(op, key, data);
}

void Mailbox::Fill(const std::shared_ptr<RecvOp>& op, const MessageKey& key,
                   std::span<const std::byte> data) {
  if (data.size() != op->size) {
    Complete(op, MakeError(ErrorCode::kInvalidArgument,
                           fmt::format("member {} sent {} bytes where member {} expects {}: the "
                                       "members' arguments differ",
                                       key.src, data.size(), key.dst, op->size)));
    return;
  }
  if (!data.empty()) std::memcpy(op->dst, data.data(), data.size());
  Complete(op, Status::Ok());
}

void Mailbox::OnData(Rank source, std::span<const std::byte> payload) {
  MessageKey key;
  uint64_t size = 0;
  size_t used = 0;
  if (!DecodeKey(payload, &key, &size, &used) || payload.size() - used != size) {
    Log().warn("malformed collective message from rank {}: dropped", source);
    return;
  }
  Deliver(key, payload.subspan(used));
}

void Mailbox::OnBulk(Rank source, std::span<const std::byte> meta, transport::IncomingBulk& body) {
  MessageKey key;
  uint64_t size = 0;
  size_t used = 0;
  if (!DecodeKey(meta, &key, &size, &used) || used != meta.size() || size != body.size()) {
    Log().warn("malformed collective bulk message from rank {}: dropped", source);
    return;
  }
  std::shared_ptr<RecvOp> op;
  std::shared_ptr<Arrived> arrived;
  {
    std::lock_guard lock(mu_);
    if (failed_.count(key.epoch) != 0) return;
    auto it = posted_.find(key);
    if (it != posted_.end() && it->second->size == size) {
      op = it->second;
      posted_.erase(it);
    } else {
      if (it != posted_.end()) {
        op = it->second;  // wrong size: fail it below, drop the body
        posted_.erase(it);
      } else {
        arrived = std::make_shared<Arrived>();
        arrived->data.resize(size);
        arrived_[key] = arrived;
      }
    }
  }
  if (op && op->size != size) {
    Complete(op, MakeError(ErrorCode::kInvalidArgument,
                           fmt::format("member {} sent {} bytes where member {} expects {}: the "
                                       "members' arguments differ",
                                       key.src, size, key.dst, op->size)));
    return;
  }
  if (op) {  // posted: straight into the user's buffer
    body.ReceiveInto(op->dst, [op](Status status) { Complete(op, std::move(status)); });
    return;
  }
  body.ReceiveInto(arrived->data.data(), [this, arrived, key](Status status) {
    // Under the lock, so that a Cancel of the waiting receive either comes first (nothing is
    // copied) or after the copy (its buffer is no longer touched). Rare: a receive posted while
    // the body of an unexpected message was in flight.
    std::lock_guard lock(mu_);
    arrived->complete = true;
    std::shared_ptr<RecvOp> waiting = std::move(arrived->waiting);
    if (!waiting) return;  // kept for a later receive
    if (auto a = arrived_.find(key); a != arrived_.end() && a->second == arrived) arrived_.erase(a);
    if (!status) {
      Complete(waiting, std::move(status));
      return;
    }
    if (arrived->data.size() != waiting->size) {
      Complete(waiting,
               MakeError(ErrorCode::kInvalidArgument,
                         fmt::format("member {} sent {} bytes where member {} expects {}", key.src,
                                     arrived->data.size(), key.dst, waiting->size)));
      return;
    }
    std::memcpy(waiting->dst, arrived->data.data(), arrived->data.size());
    Complete(waiting, Status::Ok());
  });
}

bool Mailbox::DeliverIfPosted(const MessageKey& key, std::span<const std::byte> data) {
  std::lock_guard lock(mu_);
  auto it = posted_.find(key);
  if (it == posted_.end()) return false;
  std::shared_ptr<RecvOp> op = std::move(it->second);
  posted_.erase(it);
  Fill(op, key, data);  // small: under the lock (see Deliver)
  return true;
}

bool Mailbox::TakeArrived(const MessageKey& key, std::vector<std::byte>* data) {
  std::lock_guard lock(mu_);
  auto it = arrived_.find(key);
  if (it == arrived_.end() || !it->second->complete) return false;
  *data = std::move(it->second->data);
  arrived_.erase(it);
  return true;
}

void Mailbox::AddWaiter(uint64_t epoch, uint32_t index, std::shared_ptr<Event> event) {
  std::lock_guard lock(waiters_mu_);
  waiters_[{epoch, index}] = std::move(event);
}

void Mailbox::RemoveWaiter(uint64_t epoch, uint32_t index) {
  std::lock_guard lock(waiters_mu_);
  waiters_.erase({epoch, index});
}

Status Mailbox::Kick(transport::Transport& transport, Rank rank, uint64_t epoch, uint32_t index) {
  std::byte payload[12];
  std::memcpy(payload, &epoch, 8);
  std::memcpy(payload + 8, &index, 4);
  return transport.Send(rank, kCollKick, payload);
}

void Mailbox::OnKick(Rank source, std::span<const std::byte> payload) {
  uint64_t epoch = 0;
  uint32_t index = 0;
  if (payload.size() != 12) {
    Log().warn("malformed collective kick from rank {}: dropped", source);
    return;
  }
  std::memcpy(&epoch, payload.data(), 8);
  std::memcpy(&index, payload.data() + 8, 4);
  std::shared_ptr<Event> event;
  {
    std::lock_guard lock(waiters_mu_);
    auto it = waiters_.find({epoch, index});
    if (it == waiters_.end()) return;  // the member left meanwhile
    event = it->second;
  }
  event->Notify();
}

void Mailbox::Cancel(const std::shared_ptr<RecvOp>& op) {
  std::lock_guard lock(mu_);
  auto it = posted_.find(op->key);
  if (it != posted_.end() && it->second == op) posted_.erase(it);
  // A receive waiting for a body in flight: the body stays in the mailbox's own copy.
  if (auto a = arrived_.find(op->key); a != arrived_.end() && a->second->waiting == op) {
    a->second->waiting.reset();
  }
}

void Mailbox::FailEpoch(uint64_t epoch, const Status& status) {
  std::vector<std::shared_ptr<RecvOp>> ops;
  {
    std::lock_guard lock(mu_);
    failed_.emplace(epoch, status);
    for (auto it = posted_.begin(); it != posted_.end();) {
      if (it->first.epoch == epoch) {
        ops.push_back(it->second);
        it = posted_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto it = arrived_.begin(); it != arrived_.end();) {
      if (it->first.epoch == epoch) {
        if (it->second->waiting) ops.push_back(it->second->waiting);
        it->second->waiting.reset();
        it = arrived_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& op : ops) Complete(op, status);
}

void Mailbox::DropEpoch(uint64_t epoch) {
  std::lock_guard lock(mu_);
  for (auto it = arrived_.begin(); it != arrived_.end();) {
    it = it->first.epoch == epoch && it->second->complete ? arrived_.erase(it) : std::next(it);
  }
}

}  // namespace prism::collective
