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
    arrived_.erase(it);
    if (!arrived->complete) {
      arrived->waiting = op;  // the body's completion copies it over
      return op;
    }
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
  }
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
    std::shared_ptr<RecvOp> waiting;
    {
      std::lock_guard lock(mu_);
      arrived->complete = true;
      waiting = std::move(arrived->waiting);
    }
    if (!waiting) return;
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
