#include "kv_store.h"

#include <fmt/format.h>

#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/common/wire.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("runtime");
  return logger;
}

constexpr Rank kServer = 0;
constexpr uint8_t kMaxErrorCode = static_cast<uint8_t>(ErrorCode::kCancelled);

std::vector<std::byte> EncodeGathered(
    uint64_t epoch, const std::map<int32_t, std::pair<Rank, std::vector<std::byte>>>& entries) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(epoch);
  w.U32(static_cast<uint32_t>(entries.size()));
  for (const auto& [index, entry] : entries) {
    w.I32(entry.first);
    w.Bytes(entry.second);
  }
  return out;
}

}  // namespace

KvStore::KvStore(transport::Transport& transport, Rank rank) : transport_(transport), rank_(rank) {}

void KvStore::RegisterHandlers() {
  transport_.SetHandler(kKvRequest, [this](Rank source, std::span<const std::byte> payload) {
    OnRequest(source, payload);
  });
  transport_.SetHandler(kKvReply, [this](Rank source, std::span<const std::byte> payload) {
    OnReply(source, payload);
  });
  transport_.AddPeerFailureHandler([this](Rank peer, const std::string&) { OnPeerFailure(peer); });
}

Result<std::vector<std::byte>> KvStore::Call_(Op op, std::vector<std::byte> body,
                                              int64_t timeout_ms) {
  auto call = std::make_shared<Call>();
  uint64_t id;
  {
    std::lock_guard lock(calls_mu_);
    id = next_id_++;
    calls_.emplace(id, call);
  }
  std::vector<std::byte> request;
  WireWriter w(request);
  w.U64(id);
  w.U8(static_cast<uint8_t>(op));
  w.Put(body.data(), body.size());
  auto forget = [&] {
    std::lock_guard lock(calls_mu_);
    calls_.erase(id);
  };
  if (Status s = transport_.Send(kServer, kKvRequest, request); !s) {
    forget();
    return s.error();
  }
  int64_t deadline = timeout_ms < 0 ? -1 : NowNanos() + timeout_ms * 1'000'000;
  auto ready = [&] {
    std::lock_guard lock(calls_mu_);
    return call->done;
  };
  bool ok = transport_.WaitUntil(ready, call->event, deadline, 50'000);
  forget();
  std::lock_guard lock(calls_mu_);
  if (!ok || !call->done) {
    if (!transport_.IsAlive(kServer)) {
      return MakeError(ErrorCode::kPeerDead, "the key-value store's rank 0 died");
    }
    return MakeError(ErrorCode::kTimeout,
                     fmt::format("no answer from the key-value store within {} ms", timeout_ms));
  }
  if (!call->status) return call->status.error();
  return std::move(call->reply);
}

Status KvStore::Put(const std::string& key, std::span<const std::byte> value, int64_t timeout_ms) {
  std::vector<std::byte> body;
  WireWriter w(body);
  w.String(key);
  w.Bytes(value);
  auto r = Call_(Op::kPut, std::move(body), timeout_ms);
  if (!r) return r.error();
  return Status::Ok();
}

Result<std::optional<std::vector<std::byte>>> KvStore::Get(const std::string& key,
                                                           int64_t timeout_ms) {
  std::vector<std::byte> body;
  WireWriter w(body);
  w.String(key);
  auto r = Call_(Op::kGet, std::move(body), timeout_ms);
  if (!r) return r.error();
  WireReader reader(*r);
  bool found = reader.Bool();
  auto value = reader.Bytes();
  if (!reader.AtEnd()) return MakeError(ErrorCode::kMalformed, "malformed key-value reply");
  if (!found) return std::optional<std::vector<std::byte>>();
  return std::optional<std::vector<std::byte>>(std::vector<std::byte>(value.begin(), value.end()));
}

Result<std::vector<std::byte>> KvStore::Wait(const std::string& key, int64_t timeout_ms) {
  std::vector<std::byte> body;
  WireWriter w(body);
  w.String(key);
  auto r = Call_(Op::kWait, std::move(body), timeout_ms);
  if (!r) {
    if (r.error().code == ErrorCode::kTimeout) {
      return MakeError(ErrorCode::kTimeout,
                       fmt::format("key '{}' did not appear within {} ms", key, timeout_ms));
    }
    return r.error();
  }
  return std::move(*r);
}

Status KvStore::Delete(const std::string& prefix, int64_t timeout_ms) {
  std::vector<std::byte> body;
  WireWriter w(body);
  w.String(prefix);
  auto r = Call_(Op::kDelete, std::move(body), timeout_ms);
  if (!r) return r.error();
  return Status::Ok();
}

Result<KvStore::Gathered> KvStore::Rendezvous(const std::string& key, int32_t count, int32_t index,
                                              std::span<const std::byte> value,
                                              int64_t timeout_ms) {
  if (count <= 0 || index < 0 || index >= count) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("rendezvous '{}': index {} is not in [0, {})", key, index, count));
  }
  std::vector<std::byte> body;
  WireWriter w(body);
  w.String(key);
  w.Bytes(value);
  w.I32(count);
  w.I32(index);
  auto r = Call_(Op::kRendezvous, std::move(body), timeout_ms);
  if (!r) {
    if (r.error().code == ErrorCode::kTimeout) {
      return MakeError(ErrorCode::kTimeout,
                       fmt::format("rendezvous '{}': not all {} participants arrived within {} ms",
                                   key, count, timeout_ms));
    }
    return r.error();
  }
  WireReader reader(*r);
  Gathered out;
  out.epoch = reader.U64();
  uint32_t n = reader.Count(8);
  for (uint32_t i = 0; i < n && reader.ok(); ++i) {
    out.ranks.push_back(reader.I32());
    auto v = reader.Bytes();
    out.values.emplace_back(v.begin(), v.end());
  }
  if (!reader.AtEnd() || n != static_cast<uint32_t>(count)) {
    return MakeError(ErrorCode::kMalformed, "malformed rendezvous reply");
  }
  return out;
}

void KvStore::Reply(Rank to, uint64_t id, const Status& status, std::span<const std::byte> body) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(id);
  w.U8(static_cast<uint8_t>(status.code()));
  w.String(status ? std::string() : status.error().message);
  w.Bytes(body);
  (void)transport_.Send(to, kKvReply, out);  // a dead requester needs no answer
}

void KvStore::OnRequest(Rank source, std::span<const std::byte> payload) {
  if (rank_ != kServer) {
    Log().warn("key-value request from rank {} reached rank {}, not rank 0: dropped", source,
               rank_);
    return;
  }
  WireReader r(payload);
  uint64_t id = r.U64();
  auto op = static_cast<Op>(r.U8());
  std::string key = r.String();
  if (!r.ok()) {
    Log().warn("malformed key-value request from rank {}: dropped", source);
    return;
  }
  std::vector<std::byte> empty;
  switch (op) {
    case Op::kPut: {
      auto value = r.Bytes();
      if (!r.AtEnd()) break;
      std::vector<Waiter> wake;
      {
        std::lock_guard lock(table_mu_);
        table_[key].assign(value.begin(), value.end());
        if (auto it = waiters_.find(key); it != waiters_.end()) {
          wake = std::move(it->second);
          waiters_.erase(it);
        }
      }
      for (const Waiter& waiter : wake) Reply(waiter.rank, waiter.id, Status::Ok(), value);
      Reply(source, id, Status::Ok(), empty);
      return;
    }
    case Op::kGet:
    case Op::kWait: {
      if (!r.AtEnd()) break;
      std::vector<std::byte> body;
      bool found = false;
      {
        std::lock_guard lock(table_mu_);
        auto it = table_.find(key);
        if (it != table_.end()) {
          found = true;
          if (op == Op::kGet) {
            WireWriter w(body);
            w.Bool(true);
            w.Bytes(it->second);
          } else {
            body = it->second;
          }
        } else if (op == Op::kWait) {
          waiters_[key].push_back(Waiter{source, id});
          return;
        }
      }
      if (!found) {
        WireWriter w(body);
        w.Bool(false);
        w.Bytes({});
      }
      Reply(source, id, Status::Ok(), body);
      return;
    }
    case Op::kDelete: {
      if (!r.AtEnd()) break;
      {
        std::lock_guard lock(table_mu_);
        for (auto it = table_.begin(); it != table_.end();) {
          it = it->first.rfind(key, 0) == 0 ? table_.erase(it) : std::next(it);
        }
      }
      Reply(source, id, Status::Ok(), empty);
      return;
    }
    case Op::kRendezvous: {
      auto value = r.Bytes();
      int32_t count = r.I32();
      int32_t index = r.I32();
      if (!r.AtEnd() || count <= 0 || index < 0 || index >= count) break;
      std::vector<std::pair<Rank, uint64_t>> answer;
      std::vector<std::byte> body;
      Status status;
      {
        std::lock_guard lock(table_mu_);
        Slot& slot = slots_[key];
        if (slot.entries.empty()) slot.count = count;
        if (slot.count != count) {
          status = MakeError(ErrorCode::kInvalidArgument,
                             fmt::format("rendezvous '{}': this participant says {} take part, an "
                                         "earlier one said {}",
                                         key, count, slot.count));
        } else {
          // A participant joining again (its earlier attempt timed out) replaces itself.
          slot.entries[index] = {source, std::vector<std::byte>(value.begin(), value.end())};
          slot.request_ids[index] = id;
          if (static_cast<int32_t>(slot.entries.size()) == slot.count) {
            body = EncodeGathered(next_epoch_++, slot.entries);
            for (const auto& [i, entry] : slot.entries) {
              answer.emplace_back(entry.first, slot.request_ids[i]);
            }
            slots_.erase(key);
          }
        }
      }
      if (!status) {
        Reply(source, id, status, empty);
        return;
      }
      for (const auto& [to, request] : answer) Reply(to, request, Status::Ok(), body);
      return;
    }
  }
  Log().warn("malformed key-value request from rank {}: dropped", source);
}

void KvStore::OnReply(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t id = r.U64();
  uint8_t code = r.U8();
  std::string message = r.String();
  auto body = r.Bytes();
  if (source != kServer || !r.AtEnd() || code > kMaxErrorCode) {
    Log().warn("malformed key-value reply from rank {}: dropped", source);
    return;
  }
  std::shared_ptr<Call> call;
  {
    std::lock_guard lock(calls_mu_);
    auto it = calls_.find(id);
    if (it == calls_.end()) return;  // the caller gave up
    call = it->second;
    call->status = code == 0 ? Status::Ok()
                             : Status(MakeError(static_cast<ErrorCode>(code), std::move(message)));
    call->reply.assign(body.begin(), body.end());
    call->done = true;
  }
  call->event.Notify();
}

void KvStore::OnPeerFailure(Rank peer) {
  if (peer == kServer) {
    std::vector<std::shared_ptr<Call>> failed;
    {
      std::lock_guard lock(calls_mu_);
      for (auto& [id, call] : calls_) {
        call->status = MakeError(ErrorCode::kPeerDead, "the key-value store's rank 0 died");
        call->done = true;
        failed.push_back(call);
      }
    }
    for (auto& call : failed) call->event.Notify();
    return;
  }
  if (rank_ != kServer) return;
  std::lock_guard lock(table_mu_);
  for (auto& [key, list] : waiters_) {
    std::erase_if(list, [&](const Waiter& w) { return w.rank == peer; });
  }
  for (auto& [key, slot] : slots_) {
    for (auto it = slot.entries.begin(); it != slot.entries.end();) {
      if (it->second.first == peer) {
        slot.request_ids.erase(it->first);
        it = slot.entries.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::erase_if(slots_, [](const auto& kv) { return kv.second.entries.empty(); });
}

}  // namespace prism::runtime
