#include "object_manager.h"

#include <fmt/format.h>

#include <algorithm>

#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/runtime/errors.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("objects");
  return logger;
}

}  // namespace

ObjectManager::ObjectManager(transport::Transport& transport, objstore::ObjectStore& store,
                             objstore::ObjectTransfer& transfer,
                             std::shared_ptr<objstore::BufferPool> pool, const Options& options)
    : transport_(transport),
      store_(store),
      transfer_(transfer),
      pool_(std::move(pool)),
      options_(options),
      self_(transport.rank()) {}

void ObjectManager::RegisterHandlers() {
  transport_.SetHandler(kObjectStatusRequest,
                        [this](Rank s, std::span<const std::byte> p) { OnStatusRequest(s, p); });
  transport_.SetHandler(kObjectStatusReply,
                        [this](Rank s, std::span<const std::byte> p) { OnStatusReply(s, p); });
  transport_.SetHandler(kFreeObjects,
                        [this](Rank s, std::span<const std::byte> p) { OnFreeObjects(s, p); });
  transport_.SetHandler(kAddBorrower,
                        [this](Rank s, std::span<const std::byte> p) { OnAddBorrower(s, p); });
  transport_.SetHandler(kBorrowerAdded,
                        [this](Rank s, std::span<const std::byte> p) { OnBorrowerAdded(s, p); });
  transport_.SetHandler(kRemoveBorrower,
                        [this](Rank s, std::span<const std::byte> p) { OnRemoveBorrower(s, p); });
  transport_.SetHandler(kReleaseReturnHold, [this](Rank s, std::span<const std::byte> p) {
    OnReleaseReturnHold(s, p);
  });
}

// ---------------------------------------------------------------------------------------------
// Owner side

ObjectId ObjectManager::Put(BufferPtr value) {
  return StoreNew(std::move(value), /*local_refs=*/1, /*pins=*/0);
}

ObjectId ObjectManager::PutPinned(BufferPtr value) {
  return StoreNew(std::move(value), /*local_refs=*/0, /*pins=*/1);
}

ObjectId ObjectManager::StoreNew(BufferPtr value, int64_t local_refs, int64_t pins) {
  ObjectId id = ObjectId::ForPut(self_, next_put_.fetch_add(1, std::memory_order_relaxed));
  uint64_t size = value->size();
  const std::vector<ObjectId>& contained = value->contained_refs();
  // The nested refs are held by this object from now on (their handles may go at once).
  for (const ObjectId& c : contained) AddHold(c, Hold::kContained);
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    Entry& e = shard.entries[id];
    e.owned = true;
    e.ready = true;
    e.location = self_;
    e.size = size;
    e.local_refs = local_refs;
    e.pins = pins;
    e.contains = contained;
  }
  Status added = store_.Add(id, std::move(value), objstore::CopyKind::kPrimary);
  if (!added) {
    Shard& shard = ShardOf(id);
    std::optional<Release> release;
    {
      std::lock_guard lock(shard.mu);
      auto it = shard.entries.find(id);
      it->second.local_refs = 0;
      it->second.pins = 0;
      release = MaybeRelease(shard, it);
    }
    if (release) DoRelease(*release);
    throw ObjectStoreFullError(fmt::format("prism::Put: object of {} bytes does not fit: {}", size,
                                           added.error().message));
  }
  return id;
}

void ObjectManager::AddPendingReturn(const ObjectId& id) {
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  Entry& e = shard.entries[id];
  e.owned = true;
  e.local_refs = 1;
}

ObjectManager::Readiness ObjectManager::MarkReady(Entry& e, Rank location, uint64_t size) {
  e.ready = true;
  e.location = location;
  e.size = size;
  Readiness r;
  r.callbacks.swap(e.waiting);
  r.remote_waiters.swap(e.remote_waiters);
  r.info.location = location;
  r.info.size = size;
  return r;
}

void ObjectManager::Fire(const ObjectId& id, Readiness readiness) {
  if (readiness.callbacks.empty() && readiness.remote_waiters.empty()) return;
  readiness.info.local = store_.Find(id);
  for (Rank waiter : readiness.remote_waiters) ReplyStatus(waiter, id, readiness.info);
  for (auto& cb : readiness.callbacks) cb(readiness.info);
}

void ObjectManager::SetValue(const ObjectId& id, BufferPtr value,
                             const std::vector<ObjectId>& contained) {
  uint64_t size = value->size();
  Status added = store_.Add(id, std::move(value), objstore::CopyKind::kPrimary);
  if (!added) {
    // The result cannot stay here: readers get the reason instead of the value.
    BufferPtr error =
        MakeErrorObject(pool_, ErrorKind::kObjectStoreFull, "", self_,
                        fmt::format("{} ({} bytes) did not fit in the object store of rank {}: {}",
                                    id.ToString(), size, self_, added.error().message));
    size = error->size();
    store_.Add(id, std::move(error), /*primary=*/true);
  }
  Settle(id, self_, size, contained);
}

void ObjectManager::SetLocation(const ObjectId& id, Rank location, uint64_t size,
                                const std::vector<ObjectId>& contained) {
  Settle(id, location, size, contained);
}

void ObjectManager::Settle(const ObjectId& id, Rank location, uint64_t size,
                           const std::vector<ObjectId>& contained) {
  // The nested refs are held by this object from now on.
  for (const ObjectId& c : contained) AddHold(c, Hold::kContained);
  Readiness readiness;
  std::optional<Release> release;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) {
      // Nobody holds a reference any more: the value is not needed.
      release = Release{id, true, false, location, contained};
    } else {
      it->second.contains = contained;
      readiness = MarkReady(it->second, location, size);
      if (readiness.callbacks.empty() && readiness.remote_waiters.empty()) {
        release = MaybeRelease(shard, it);
      }
    }
  }
  Fire(id, std::move(readiness));
  if (release) DoRelease(*release);
}

// ---------------------------------------------------------------------------------------------
// References and freeing

bool ObjectManager::Releasable(const Entry& e) const {
  if (e.local_refs > 0 || e.pins > 0 || e.contained_by > 0 || e.escaped || !e.waiting.empty() ||
      !e.remote_waiters.empty())
    return false;
  if (!e.owned) return true;
  return e.ready && e.borrowers.empty();
}

std::optional<ObjectManager::Release> ObjectManager::MaybeRelease(
    Shard& shard, std::unordered_map<ObjectId, Entry>::iterator it) {
  if (!Releasable(it->second)) return std::nullopt;
  Entry& e = it->second;
  Release r{it->first, e.owned, e.registered, e.location, std::move(e.contains)};
  shard.entries.erase(it);
  return r;
}

void ObjectManager::DoRelease(const Release& r) {
  if (!r.owned) {
    // A pulled copy goes with the last hold (a primary copy made here stays: its owner frees
    // it). The owner is told once the registrations sent before now are acknowledged.
    store_.RemoveSecondary(r.id);
    if (r.registered) {
      AfterRegistrations([this, id = r.id] {
        ObjectId ids[1] = {id};
        if (transport_.IsAlive(id.owner))
          (void)transport_.Send(id.owner, kRemoveBorrower, EncodeObjectIds(ids));
      });
    }
    return;
  }
  freed_.fetch_add(1, std::memory_order_relaxed);
  store_.Remove(r.id);
  if (r.location != self_ && r.location != kNoRank && transport_.IsAlive(r.location)) {
    ObjectId ids[1] = {r.id};
    (void)transport_.Send(r.location, kFreeObjects, EncodeObjectIds(ids));
  }
  for (const ObjectId& c : r.contains) RemoveHold(c, Hold::kContained);
}

void ObjectManager::AddHold(const ObjectId& id, Hold kind) {
  uint64_t registration = 0;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) {
      if (id.owner == self_) {
        Log().warn("a reference to {} was copied after the object was freed", id.ToString());
        return;
      }
      it = shard.entries.emplace(id, Entry{}).first;
    }
    Entry& e = it->second;
    switch (kind) {
      case Hold::kLocal:
        ++e.local_refs;
        break;
      case Hold::kPin:
        ++e.pins;
        break;
      case Hold::kContained:
        ++e.contained_by;
        break;
    }
    if (!e.owned && !e.registered) {
      // Numbered under the entry's lock: a release of this entry on another thread then waits
      // for this registration (AfterRegistrations) even before it is sent.
      e.registered = true;
      std::lock_guard reg_lock(reg_mu_);
      registration = ++next_reg_seq_;
      registrations_.emplace(registration, id.owner);
    }
  }
  if (registration != 0) Register(id, registration);
}

void ObjectManager::RemoveHold(const ObjectId& id, Hold kind) {
  std::optional<Release> release;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) return;
    Entry& e = it->second;
    int64_t& count = kind == Hold::kLocal ? e.local_refs
                     : kind == Hold::kPin ? e.pins
                                          : e.contained_by;
    if (count <= 0) {
      Log().warn("{}: a hold was released more often than taken", id.ToString());
      return;
    }
    --count;
    release = MaybeRelease(shard, it);
  }
  if (release) DoRelease(*release);
}

void ObjectManager::AddLocalRef(const ObjectId& id) { AddHold(id, Hold::kLocal); }
void ObjectManager::RemoveLocalRef(const ObjectId& id) { RemoveHold(id, Hold::kLocal); }
void ObjectManager::Pin(const ObjectId& id) { AddHold(id, Hold::kPin); }
void ObjectManager::Unpin(const ObjectId& id) { RemoveHold(id, Hold::kPin); }
void ObjectManager::AddContainedRef(const ObjectId& id) { AddHold(id, Hold::kContained); }
void ObjectManager::RemoveContainedRef(const ObjectId& id) { RemoveHold(id, Hold::kContained); }
void ObjectManager::OnRefDeserialized(const ObjectId& id) { AddHold(id, Hold::kLocal); }

void ObjectManager::OnRefSerializedOutOfBand(const ObjectId& id) {
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(id);
  if (it != shard.entries.end()) it->second.escaped = true;
}

// ---------------------------------------------------------------------------------------------
// Borrowers

void ObjectManager::Register(const ObjectId& id, uint64_t seq) {
  BorrowRequest request{seq, {id}};
  if (!transport_.IsAlive(id.owner) ||
      !transport_.Send(id.owner, kAddBorrower, EncodeBorrowRequest(request))) {
    RegistrationDone(seq);  // the owner is gone: its objects fail with OwnerDiedError
  }
}

void ObjectManager::RegistrationDone(uint64_t seq) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(reg_mu_);
    registrations_.erase(seq);
    uint64_t oldest = registrations_.empty() ? UINT64_MAX : registrations_.begin()->first;
    while (!after_registrations_.empty() && after_registrations_.front().first < oldest) {
      ready.push_back(std::move(after_registrations_.front().second));
      after_registrations_.pop_front();
    }
  }
  for (auto& fn : ready) fn();
}

void ObjectManager::AfterRegistrations(std::function<void()> fn) {
  {
    std::lock_guard lock(reg_mu_);
    if (!registrations_.empty()) {
      after_registrations_.emplace_back(next_reg_seq_, std::move(fn));
      return;
    }
  }
  fn();
}

void ObjectManager::HoldReturn(const TaskId& id, std::shared_ptr<const void> hold) {
  std::lock_guard lock(holds_mu_);
  return_holds_[id] = std::move(hold);
}

void ObjectManager::OnAddBorrower(Rank source, std::span<const std::byte> payload) {
  auto request = DecodeBorrowRequest(payload);
  if (!request) {
    Log().warn("dropped a malformed borrower registration from rank {}", source);
    return;
  }
  for (const ObjectId& id : request->ids) {
    if (id.owner != self_) {
      Log().warn("rank {} registered as a borrower of {}, which rank {} does not own", source,
                 id.ToString(), self_);
      continue;
    }
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) {
      Log().warn("rank {} registered as a borrower of {}, which was already freed", source,
                 id.ToString());
      continue;
    }
    it->second.borrowers.push_back(source);
  }
  BorrowRequest ack{request->seq, {}};
  (void)transport_.Send(source, kBorrowerAdded, EncodeBorrowRequest(ack));
}

void ObjectManager::OnBorrowerAdded(Rank source, std::span<const std::byte> payload) {
  auto ack = DecodeBorrowRequest(payload);
  if (!ack) {
    Log().warn("dropped a malformed borrower acknowledgement from rank {}", source);
    return;
  }
  {
    std::lock_guard lock(reg_mu_);
    auto it = registrations_.find(ack->seq);
    if (it == registrations_.end() || it->second != source) {
      Log().warn("dropped a borrower acknowledgement from rank {} for no registration", source);
      return;
    }
  }
  RegistrationDone(ack->seq);
}

void ObjectManager::OnRemoveBorrower(Rank source, std::span<const std::byte> payload) {
  auto ids = DecodeObjectIds(payload);
  if (!ids) {
    Log().warn("dropped a malformed borrower removal from rank {}", source);
    return;
  }
  for (const ObjectId& id : *ids) {
    std::optional<Release> release;
    {
      Shard& shard = ShardOf(id);
      std::lock_guard lock(shard.mu);
      auto it = shard.entries.find(id);
      if (it == shard.entries.end() || !it->second.owned) continue;
      auto& borrowers = it->second.borrowers;
      auto found = std::find(borrowers.begin(), borrowers.end(), source);
      if (found == borrowers.end()) {
        Log().warn("rank {} dropped {}, which it had not borrowed", source, id.ToString());
        continue;
      }
      borrowers.erase(found);
      release = MaybeRelease(shard, it);
    }
    if (release) DoRelease(*release);
  }
}

void ObjectManager::OnReleaseReturnHold(Rank source, std::span<const std::byte> payload) {
  auto id = DecodeTaskIdMessage(payload);
  if (!id || id->owner != source) {
    Log().warn("dropped a malformed return-hold release from rank {}", source);
    return;
  }
  std::shared_ptr<const void> hold;
  {
    std::lock_guard lock(holds_mu_);
    auto it = return_holds_.find(*id);
    if (it == return_holds_.end()) return;
    hold = std::move(it->second);
    return_holds_.erase(it);
  }
  hold.reset();  // outside the lock: it releases references
}

// ---------------------------------------------------------------------------------------------
// Readiness and values

std::optional<ObjectManager::ReadyInfo> ObjectManager::Lookup(const ObjectId& id) {
  ReadyInfo info;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end() || !it->second.ready) return std::nullopt;
    info.location = it->second.location;
    info.size = it->second.size;
  }
  info.local = store_.Find(id);
  return info;
}

void ObjectManager::WhenReady(const ObjectId& id, ReadyCallback done) {
  bool ask_owner = false;
  bool call_now = true;
  ReadyInfo info;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) {
      if (id.owner == self_) {
        // Owned but gone: only a freed object, read through a stale id.
        info.location = self_;
      } else {
        it = shard.entries.emplace(id, Entry{}).first;
      }
    }
    if (it != shard.entries.end()) {
      Entry& e = it->second;
      if (e.ready) {
        info.location = e.location;
        info.size = e.size;
      } else {
        call_now = false;
        e.waiting.push_back(std::move(done));
        if (!e.owned && !e.status_requested) {
          e.status_requested = true;
          ask_owner = true;
        }
      }
    }
  }
  if (call_now) {
    info.local = store_.Find(id);
    done(info);
    return;
  }
  if (ask_owner) {
    ObjectId ids[1] = {id};
    Status s = transport_.Send(id.owner, kObjectStatusRequest, EncodeObjectIds(ids));
    if (!s)
      SetError(id, ErrorKind::kOwnerDied,
               fmt::format("{}: its owner rank {} is unreachable: {}", id.ToString(), id.owner,
                           s.ToString()),
               /*force=*/false);
  }
}

void ObjectManager::WhenLocal(const ObjectId& id, LocalCallback done) {
  if (BufferPtr local = store_.Find(id)) {
    done(std::move(local));
    return;
  }
  WhenReady(id, [this, id, done = std::move(done)](const ReadyInfo& info) {
    if (info.local) {
      done(info.local);
      return;
    }
    if (info.location == self_ || info.location == kNoRank) {
      done(MakeErrorObject(
          pool_, ErrorKind::kObjectLost, "", self_,
          fmt::format("{} has no copy left (it was freed or evicted)", id.ToString())));
      return;
    }
    Rank holder = info.location;
    transfer_.Pull(id, holder, [this, id, holder, done](Result<BufferPtr> pulled) {
      if (pulled) {
        done(std::move(*pulled));
      } else {
        ErrorKind kind = ErrorKind::kObjectLost;
        done(MakeErrorObject(pool_, kind, "", self_,
                             fmt::format("cannot fetch {} from rank {}: {}", id.ToString(), holder,
                                         pulled.error().ToString())));
      }
    });
  });
}

namespace {

// Shared by a blocking call and the callbacks it registered (which may fire after it returns).
struct GetState {
  explicit GetState(size_t n) : results(n), remaining(static_cast<int64_t>(n)) {}
  std::mutex mu;
  std::vector<BufferPtr> results;
  std::atomic<int64_t> remaining;
  Event event;
};

}  // namespace

std::vector<BufferPtr> ObjectManager::Get(const std::vector<ObjectId>& ids, int64_t timeout_ms) {
  int64_t deadline = timeout_ms < 0 ? -1 : NowNanos() + timeout_ms * 1'000'000;
  std::vector<BufferPtr> out(ids.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].IsNil()) throw PrismError("prism::Get: a nil ObjectRef has no value");
    out[i] = store_.Find(ids[i]);
    if (!out[i]) missing.push_back(i);
  }
  if (missing.empty()) return out;

  auto state = std::make_shared<GetState>(missing.size());
  for (size_t k = 0; k < missing.size(); ++k) {
    WhenLocal(ids[missing[k]], [state, k](BufferPtr value) {
      {
        std::lock_guard lock(state->mu);
        state->results[k] = std::move(value);
      }
      if (state->remaining.fetch_sub(1) == 1) state->event.Notify();
    });
  }
  bool done = transport_.WaitUntil([&] { return state->remaining.load() == 0; }, state->event,
                                   deadline, options_.get_spin_ns);
  if (!done && !transport_.running()) {
    throw PrismError("prism::Get: Prism shut down while this call was waiting for " +
                     ids[missing[0]].ToString());
  }
  if (!done) {
    std::string which;
    std::lock_guard lock(state->mu);
    for (size_t k = 0; k < missing.size(); ++k) {
      if (!state->results[k]) {
        which = ids[missing[k]].ToString();
        break;
      }
    }
    throw GetTimeoutError(
        fmt::format("prism::Get timed out after {} ms waiting for {}", timeout_ms, which));
  }
  std::lock_guard lock(state->mu);
  for (size_t k = 0; k < missing.size(); ++k) out[missing[k]] = std::move(state->results[k]);
  return out;
}

namespace {

struct WaitState {
  explicit WaitState(size_t n) : ready(n) {}
  std::vector<std::atomic<bool>> ready;
  std::atomic<int64_t> count{0};
  Event event;
};

}  // namespace

std::vector<bool> ObjectManager::Wait(const std::vector<ObjectId>& ids, int num_objects,
                                      int64_t timeout_ms) {
  if (num_objects < 0 || static_cast<size_t>(num_objects) > ids.size()) {
    throw PrismError(
        fmt::format("prism::Wait: num_objects = {} must be between 0 and the number of refs ({})",
                    num_objects, ids.size()));
  }
  int64_t deadline = timeout_ms < 0 ? -1 : NowNanos() + timeout_ms * 1'000'000;
  auto state = std::make_shared<WaitState>(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].IsNil()) throw PrismError("prism::Wait: a nil ObjectRef never becomes ready");
    WhenReady(ids[i], [state, i](const ReadyInfo&) {
      state->ready[i].store(true);
      state->count.fetch_add(1);
      state->event.Notify();
    });
  }
  if (num_objects > 0) {
    transport_.WaitUntil([&] { return state->count.load() >= num_objects; }, state->event, deadline,
                         options_.get_spin_ns);
  }
  std::vector<bool> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) out[i] = state->ready[i].load();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Status protocol

void ObjectManager::ReplyStatus(Rank to, const ObjectId& id, const ReadyInfo& info) {
  ObjectStatus status;
  status.id = id;
  if (info.location == self_) {
    BufferPtr local = info.local ? info.local : store_.Find(id);
    if (!local) {
      status.value =
          MakeErrorObject(pool_, ErrorKind::kObjectLost, "", self_,
                          fmt::format("{} has no copy on its owner rank {}", id.ToString(), self_));
    } else if (static_cast<int64_t>(local->size()) <= options_.max_inline_bytes) {
      status.value = std::move(local);
    } else {
      status.kind = ObjectStatus::kLocated;
      status.location = self_;
      status.size = local->size();
    }
  } else {
    status.kind = ObjectStatus::kLocated;
    status.location = info.location;
    status.size = info.size;
  }
  (void)transport_.Send(to, kObjectStatusReply, EncodeObjectStatus(status));
}

void ObjectManager::OnStatusRequest(Rank source, std::span<const std::byte> payload) {
  auto ids = DecodeObjectIds(payload);
  if (!ids) {
    Log().warn("dropped a malformed status request from rank {}", source);
    return;
  }
  for (const ObjectId& id : *ids) {
    if (id.owner != self_) continue;  // not ours: forged or misrouted
    ReadyInfo info;
    bool answer_now = false;
    {
      Shard& shard = ShardOf(id);
      std::lock_guard lock(shard.mu);
      auto it = shard.entries.find(id);
      if (it == shard.entries.end()) {
        answer_now = true;
        info.location = self_;  // unknown here: the reply will say it is lost
      } else if (it->second.ready) {
        answer_now = true;
        info.location = it->second.location;
        info.size = it->second.size;
      } else {
        it->second.remote_waiters.push_back(source);
      }
    }
    if (answer_now) ReplyStatus(source, id, info);
  }
}

void ObjectManager::OnStatusReply(Rank source, std::span<const std::byte> payload) {
  auto status = DecodeObjectStatus(payload, pool_);
  if (!status || status->id.owner != source) {
    Log().warn("dropped a malformed status reply from rank {}", source);
    return;
  }
  const ObjectId& id = status->id;
  Rank location = status->kind == ObjectStatus::kInline ? source : status->location;
  uint64_t size = status->kind == ObjectStatus::kInline ? status->value->size() : status->size;
  if (status->kind == ObjectStatus::kInline)
    (void)store_.Add(id, status->value, objstore::CopyKind::kSecondary);  // not kept when full
  Readiness readiness;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end() || it->second.owned) return;
    readiness = MarkReady(it->second, location, size);
    it->second.status_requested = false;
  }
  Fire(id, std::move(readiness));
  // An entry made only to learn the status (no handle, no pin) is not kept.
  Shard& shard = ShardOf(id);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(id);
  if (it != shard.entries.end() && !it->second.owned) (void)MaybeRelease(shard, it);
}

void ObjectManager::OnFreeObjects(Rank source, std::span<const std::byte> payload) {
  auto ids = DecodeObjectIds(payload);
  if (!ids) {
    Log().warn("dropped a malformed free request from rank {}", source);
    return;
  }
  for (const ObjectId& id : *ids) {
    if (id.owner == source) store_.Remove(id);  // only an object's owner may free it
  }
}

// ---------------------------------------------------------------------------------------------
// Failures

void ObjectManager::SetError(const ObjectId& id, ErrorKind kind, const std::string& message,
                             bool force) {
  BufferPtr error = MakeErrorObject(pool_, kind, "", self_, message);
  Readiness readiness;
  {
    Shard& shard = ShardOf(id);
    std::lock_guard lock(shard.mu);
    auto it = shard.entries.find(id);
    if (it == shard.entries.end()) return;
    if (it->second.ready && !force) return;
    // Replace any stale copy: the error is what readers must see now.
    store_.Remove(id);
    store_.Add(id, error, /*primary=*/it->second.owned);
    readiness = MarkReady(it->second, self_, error->size());
  }
  Fire(id, std::move(readiness));
}

void ObjectManager::OnPeerFailure(Rank rank, const std::string& why) {
  struct Action {
    ObjectId id;
    ErrorKind kind;
    bool force;
  };
  std::vector<Action> actions;
  std::vector<ObjectId> promote;
  // Registrations with the dead rank will never be acknowledged; its return holds are void.
  std::vector<uint64_t> unanswered;
  {
    std::lock_guard lock(reg_mu_);
    for (const auto& [seq, owner] : registrations_)
      if (owner == rank) unanswered.push_back(seq);
  }
  for (uint64_t seq : unanswered) RegistrationDone(seq);
  std::vector<std::shared_ptr<const void>> dropped_holds;
  {
    std::lock_guard lock(holds_mu_);
    for (auto it = return_holds_.begin(); it != return_holds_.end();) {
      if (it->first.owner == rank) {
        dropped_holds.push_back(std::move(it->second));
        it = return_holds_.erase(it);
      } else {
        ++it;
      }
    }
  }
  dropped_holds.clear();
  std::vector<Release> releases;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      // The dead rank's borrows end with it.
      if (std::erase(it->second.borrowers, rank) > 0) {
        auto next = std::next(it);
        if (auto r = MaybeRelease(shard, it)) {
          releases.push_back(std::move(*r));
          it = next;
          continue;
        }
      }
      ++it;
    }
    for (auto& [id, e] : shard.entries) {
      std::erase(e.remote_waiters, rank);
      if (!e.owned && id.owner == rank && !e.ready) {
        actions.push_back({id, ErrorKind::kOwnerDied, false});
      } else if (e.ready && e.location == rank) {
        // The primary copy was there. A local copy can take its place; otherwise it is lost.
        if (e.owned && store_.Contains(id)) {
          e.location = self_;
          promote.push_back(id);
        } else {
          actions.push_back({id, ErrorKind::kObjectLost, true});
        }
      }
    }
  }
  for (const Release& r : releases) DoRelease(r);
  for (const ObjectId& id : promote) {
    if (!store_.InMemory(id)) continue;  // spilled copies are primary already
    if (BufferPtr local = store_.Find(id))
      (void)store_.Add(id, local, objstore::CopyKind::kPrimary);
  }
  for (const Action& a : actions) {
    std::string message =
        a.kind == ErrorKind::kOwnerDied
            ? fmt::format("{}: its owner rank {} died ({})", a.id.ToString(), rank, why)
            : fmt::format("{}: the only copy was on rank {}, which died ({})", a.id.ToString(),
                          rank, why);
    SetError(a.id, a.kind, message, a.force);
  }
}

ObjectManager::Stats ObjectManager::stats() const {
  Stats s;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    s.entries += shard.entries.size();
    for (const auto& [id, e] : shard.entries) {
      s.owned += e.owned ? 1 : 0;
      s.local_reference += e.local_refs > 0 ? 1 : 0;
      s.used_by_pending_task += e.pins > 0 ? 1 : 0;
      s.captured_in_object += e.contained_by > 0 ? 1 : 0;
      s.borrowed += e.owned ? 0 : 1;
      s.with_borrowers += e.owned && !e.borrowers.empty() ? 1 : 0;
      s.pinned_out_of_band += e.escaped ? 1 : 0;
      s.owned_bytes += e.owned && e.ready ? e.size : 0;
    }
  }
  s.freed = freed_.load();
  return s;
}

}  // namespace prism::runtime
