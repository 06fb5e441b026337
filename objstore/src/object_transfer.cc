#include "prism/objstore/object_transfer.h"

#include "prism/common/logging.h"
#include "prism/common/wire.h"

namespace prism::objstore {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("objstore");
  return logger;
}

}  // namespace

ObjectTransfer::ObjectTransfer(transport::Transport& transport, ObjectStore& store,
                               std::shared_ptr<BufferPool> pool,
                               const ObjectTransferOptions& options)
    : transport_(transport), store_(store), pool_(std::move(pool)), options_(options) {}

void ObjectTransfer::RegisterHandlers() {
  transport_.SetHandler(kPullRequest,
                        [this](Rank s, std::span<const std::byte> p) { OnPullRequest(s, p); });
  transport_.SetBulkHandler(kPullData, [this](Rank s, std::span<const std::byte> m,
                                              transport::IncomingBulk& b) { OnPullData(s, m, b); });
  transport_.SetHandler(kPullRegion,
                        [this](Rank s, std::span<const std::byte> p) { OnPullRegion(s, p); });
  transport_.SetHandler(kPullDone,
                        [this](Rank s, std::span<const std::byte> p) { OnPullDone(s, p); });
  transport_.SetHandler(kPullFailed,
                        [this](Rank s, std::span<const std::byte> p) { OnPullFailed(s, p); });
  transport_.AddPeerFailureHandler([this](Rank peer, const std::string&) { OnPeerFailure(peer); });
}

void ObjectTransfer::Pull(const ObjectId& id, Rank holder, PullCallback done) {
  if (holder == transport_.rank()) {
    // Nothing to transfer: the local copy, or it is gone.
    if (std::shared_ptr<ObjectBuffer> local = store_.Find(id)) {
      done(std::move(local));
    } else {
      done(MakeError(ErrorCode::kNotFound,
                     id.ToString() + " has no copy on rank " + std::to_string(holder)));
    }
    return;
  }
  uint64_t request;
  {
    std::lock_guard lock(mu_);
    if (auto it = pull_by_object_.find(id); it != pull_by_object_.end()) {
      pulls_[it->second].waiters.push_back(std::move(done));
      return;
    }
    request = next_request_++;
    PullState& state = pulls_[request];
    state.id = id;
    state.holder = holder;
    state.waiters.push_back(std::move(done));
    pull_by_object_[id] = request;
    ++stats_.pulls;
  }
  std::vector<std::byte> msg;
  WireWriter w(msg);
  w.U64(request);
  w.Object(id);
  if (Status s = transport_.Send(holder, kPullRequest, msg); !s) Complete(request, s.error());
}

void ObjectTransfer::OnPullRequest(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t request = r.U64();
  ObjectId id = r.Object();
  if (!r.AtEnd()) {
    Log().warn("dropped a malformed pull request from rank {}", source);
    return;
  }
  std::shared_ptr<ObjectBuffer> buffer = store_.Find(id);
  if (!buffer) {
    SendFailure(source, request, ErrorCode::kNotFound,
                id.ToString() + " has no copy on rank " + std::to_string(transport_.rank()));
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++stats_.served;
  }
  bool rma = buffer->block() != nullptr && buffer->size() > 0 &&
             (options_.mode == "get" || (options_.mode == "auto" && transport_.SameHost(source) &&
                                         buffer->size() > options_.rma_threshold_bytes));
  if (rma) {
    auto region = pool_->Register(buffer->block(), transport_);
    if (region) {
      std::vector<std::byte> msg;
      WireWriter w(msg);
      w.U64(request);
      w.Bytes(buffer->metadata());
      w.U64(buffer->size());
      w.U64((*region)->address());
      w.Bytes((*region)->rkey());
      {
        std::lock_guard lock(mu_);
        leases_[{source, request}] = buffer;
      }
      if (Status s = transport_.Send(source, kPullRegion, msg); !s) {
        std::lock_guard lock(mu_);
        leases_.erase({source, request});
      }
      return;
    }
    Log().warn("cannot register {} for an RMA get ({}); sending it instead", id.ToString(),
               region.error().ToString());
  }
  std::vector<std::byte> meta;
  WireWriter w(meta);
  w.U64(request);
  w.Bytes(buffer->metadata());
  // The completion keeps the buffer alive until UCX no longer reads it.
  Status s = transport_.SendBulk(source, kPullData, meta, buffer->data(), [buffer](Status) {});
  if (!s) Log().warn("cannot send {} to rank {}: {}", id.ToString(), source, s.ToString());
}

void ObjectTransfer::OnPullData(Rank source, std::span<const std::byte> meta,
                                transport::IncomingBulk& body) {
  WireReader r(meta);
  uint64_t request = r.U64();
  auto metadata = r.Bytes();
  if (!r.AtEnd() || metadata.size() > ObjectBuffer::kMaxMetadata) {
    Log().warn("dropped malformed pull data from rank {}", source);
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto it = pulls_.find(request);
    if (it == pulls_.end() || it->second.holder != source)
      return;  // stale or forged: drop the body
    stats_.bytes_pulled += body.size();
  }
  auto buffer = ObjectBuffer::Create(pool_, body.size(), metadata);
  body.ReceiveInto(buffer->mutable_data(), [this, request, buffer](Status s) {
    if (s) {
      Complete(request, buffer);
    } else {
      Complete(request, s.error());
    }
  });
}

void ObjectTransfer::OnPullRegion(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t request = r.U64();
  auto metadata = r.Bytes();
  uint64_t size = r.U64();
  uint64_t address = r.U64();
  auto rkey = r.Bytes();
  if (!r.AtEnd() || metadata.size() > ObjectBuffer::kMaxMetadata || rkey.empty()) {
    Log().warn("dropped a malformed pull region from rank {}", source);
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto it = pulls_.find(request);
    if (it == pulls_.end() || it->second.holder != source) return;
    stats_.bytes_pulled += size;
    ++stats_.rma_pulls;
  }
  std::shared_ptr<ObjectBuffer> buffer;
  try {
    buffer = ObjectBuffer::Create(pool_, size, metadata);
  } catch (const std::bad_alloc&) {
    Complete(request,
             MakeError(ErrorCode::kResourceExhausted,
                       "cannot allocate " + std::to_string(size) + " bytes for a pulled object"));
    return;
  }
  transport_.Get(source, address, rkey, buffer->mutable_data(), size,
                 [this, source, request, buffer](Status s) {
                   std::vector<std::byte> msg;
                   WireWriter w(msg);
                   w.U64(request);
                   (void)transport_.Send(source, kPullDone,
                                         msg);  // the holder may be gone; nothing to release then
                   if (s) {
                     Complete(request, buffer);
                   } else {
                     Complete(request, s.error());
                   }
                 });
}

void ObjectTransfer::OnPullDone(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t request = r.U64();
  if (!r.AtEnd()) return;
  std::shared_ptr<ObjectBuffer> released;
  std::lock_guard lock(mu_);
  auto it = leases_.find({source, request});
  if (it != leases_.end()) {
    released = std::move(it->second);
    leases_.erase(it);
  }
}

void ObjectTransfer::OnPullFailed(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t request = r.U64();
  uint8_t code = r.U8();
  std::string message = r.String();
  if (!r.AtEnd() || code > static_cast<uint8_t>(ErrorCode::kCancelled)) {
    Log().warn("dropped a malformed pull failure from rank {}", source);
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto it = pulls_.find(request);
    if (it == pulls_.end() || it->second.holder != source) return;
  }
  Complete(request, MakeError(static_cast<ErrorCode>(code), message));
}

void ObjectTransfer::SendFailure(Rank to, uint64_t request, ErrorCode code,
                                 const std::string& message) {
  std::vector<std::byte> msg;
  WireWriter w(msg);
  w.U64(request);
  w.U8(static_cast<uint8_t>(code));
  w.String(message);
  (void)transport_.Send(to, kPullFailed, msg);
}

void ObjectTransfer::OnPeerFailure(Rank peer) {
  std::vector<uint64_t> failed;
  {
    std::lock_guard lock(mu_);
    for (auto& [request, state] : pulls_) {
      if (state.holder == peer) failed.push_back(request);
    }
    for (auto it = leases_.begin(); it != leases_.end();) {
      it = it->first.first == peer ? leases_.erase(it) : std::next(it);
    }
  }
  for (uint64_t request : failed) {
    Complete(request, MakeError(ErrorCode::kPeerDead,
                                "rank " + std::to_string(peer) +
                                    " died while this rank was pulling an object from it"));
  }
}

void ObjectTransfer::Complete(uint64_t request, Result<std::shared_ptr<ObjectBuffer>> result) {
  PullState state;
  {
    std::lock_guard lock(mu_);
    auto it = pulls_.find(request);
    if (it == pulls_.end()) return;
    state = std::move(it->second);
    pulls_.erase(it);
    pull_by_object_.erase(state.id);
  }
  if (result) {
    // A full store does not keep the copy; the waiters still get the bytes.
    if (Status s = store_.Add(state.id, *result, CopyKind::kSecondary); !s) {
      Log().debug("pulled {} is not kept: {}", state.id.ToString(), s.error().message);
    }
  }
  for (auto& waiter : state.waiters) waiter(result);
}

ObjectTransfer::Stats ObjectTransfer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace prism::objstore
