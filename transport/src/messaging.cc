// Sending and receiving: framed active messages, bulk bodies, RMA gets, loopback.

#include <cstring>

#include "prism/common/check.h"
#include "transport_impl.h"
#include "ucx_call.h"

namespace prism::transport {
namespace {

constexpr uint16_t kAmId = 0;

// A bulk body offered to a handler inside the UCX callback.
class IncomingBulkImpl final : public IncomingBulk {
 public:
  IncomingBulkImpl(Transport::Impl* impl, Rank source, void* data, size_t length, bool rendezvous)
      : impl_(impl), source_(source), data_(data), length_(length), rendezvous_(rendezvous) {}

  size_t size() const override { return length_; }

  void ReceiveInto(void* dst, Completion done) override {
    if (used_) {
      done(MakeError(ErrorCode::kFailedPrecondition, "bulk body received twice"));
      return;
    }
    used_ = true;
    if (!rendezvous_) {
      if (length_ != 0) std::memcpy(dst, data_, length_);
      done(Status::Ok());
      return;
    }
    PendingOp* op = impl_->TrackOp(source_, std::move(done));
    if (op == nullptr) return;
    ucp_request_param_t rp{};
    rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
    rp.cb.recv_am = [](void* request, ucs_status_t status, size_t, void* user) {
      ucp_request_free(request);
      auto* pending = static_cast<PendingOp*>(user);
      pending->impl->FinishOp(
          pending, status == UCS_OK ? Status::Ok() : Status(UcsError(status, "am receive")),
          /*release=*/true);
    };
    rp.user_data = op;
    ucs_status_ptr_t req = ucp_am_recv_data_nbx(impl_->worker, data_, dst, length_, &rp);
    if (req == nullptr) {
      impl_->FinishOp(op, Status::Ok(), true);
    } else if (UCS_PTR_IS_ERR(req)) {
      impl_->FinishOp(op, UcsError(UCS_PTR_STATUS(req), "ucp_am_recv_data_nbx"), true);
    }  // else: in flight; the callback completes and frees the request
  }

 private:
  Transport::Impl* impl_;
  Rank source_;
  void* data_;
  size_t length_;
  bool rendezvous_;
  bool used_ = false;
};

Status PeerGone(Rank r) {
  return MakeError(ErrorCode::kPeerDead, "rank " + std::to_string(r) + " is dead");
}

// The transport whose worker token this thread holds (handlers and completions run there).
thread_local const Transport::Impl* t_token_holder = nullptr;

void ControlSent(void* request, ucs_status_t, void* user) {
  ucp_request_free(request);
  ::operator delete(user);
}

void BulkDone(void* request, ucs_status_t status, void* user) {
  ucp_request_free(request);
  auto* pending = static_cast<PendingOp*>(user);
  pending->impl->FinishOp(
      pending, status == UCS_OK ? Status::Ok() : Status(UcsError(status, "bulk send")), true);
}

void GetDone(void* request, ucs_status_t status, void* user) {
  ucp_request_free(request);
  auto* pending = static_cast<PendingOp*>(user);
  pending->impl->FinishOp(
      pending, status == UCS_OK ? Status::Ok() : Status(UcsError(status, "RMA get")), true);
}

}  // namespace

bool Transport::Impl::AcquireToken() {
  if (progress_busy.exchange(true, std::memory_order_seq_cst)) return false;
  t_token_holder = this;
  return true;
}

void Transport::Impl::ReleaseToken() {
  while (true) {
    t_token_holder = nullptr;
    progress_busy.store(false, std::memory_order_seq_cst);
    // A call queued while we held the token, after our last drain: run it ourselves, unless
    // another thread took the token (then it will).
    if (!outbox_pending.load(std::memory_order_seq_cst) || !AcquireToken()) return;
    DrainOutbox();
  }
}

void Transport::Impl::Run(OutOp op) {
  // Calls queued earlier go first, so that sends to one peer keep the order they were made in.
  if (t_token_holder == this) {  // a handler or completion: we are in progress context
    DrainOutbox();
    Execute(op);
    return;
  }
  if (AcquireToken()) {
    DrainOutbox();
    Execute(op);
    ReleaseToken();
    return;
  }
  {
    std::lock_guard lock(outbox_mu);
    outbox.push_back(op);
    outbox_pending.store(true, std::memory_order_seq_cst);
  }
  // The holder may have released the token before seeing our call.
  if (AcquireToken()) {
    DrainOutbox();
    ReleaseToken();
  }
}

void Transport::Impl::DrainOutbox() {
  std::vector<OutOp> batch;
  {
    std::lock_guard lock(outbox_mu);
    if (outbox.empty()) return;
    batch.swap(outbox);
    outbox_pending.store(false, std::memory_order_seq_cst);
  }
  for (OutOp& op : batch) Execute(op);
}

void Transport::Impl::Started(PendingOp* op, ucs_status_ptr_t request, const char* call) {
  if (request == nullptr) {
    FinishOp(op, Status::Ok(), true);  // completed at once
  } else if (UCS_PTR_IS_ERR(request)) {
    FinishOp(op, UcsError(UCS_PTR_STATUS(request), call), true);
  }  // else: in flight; its callback finishes the op and frees the request
}

void Transport::Impl::Execute(OutOp& op) {
  Peer* p = peer(op.peer);
  // Nothing is sent to a dead peer: over shared memory it would stay queued for ever.
  if (op.kind != OutOp::Kind::kControl && !p->alive.load(std::memory_order_relaxed)) {
    FinishOp(op.op, PeerGone(op.peer), true);
    return;
  }
  ucp_request_param_t rp{};
  rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  switch (op.kind) {
    case OutOp::Kind::kControl: {
      if (!p->alive.load(std::memory_order_relaxed)) {
        ::operator delete(op.buffer);
        return;
      }
      rp.cb.send = ControlSent;
      rp.user_data = op.buffer;
      ucs_status_ptr_t req = ucp_am_send_nbx(p->data_ep, kAmId, op.buffer, sizeof(FrameHeader),
                                             op.buffer + sizeof(FrameHeader), op.payload_size, &rp);
      if (req == nullptr) {
        ::operator delete(op.buffer);
      } else if (UCS_PTR_IS_ERR(req)) {
        ::operator delete(op.buffer);
        Log().warn("send to rank {} failed: {}", op.peer, ucs_status_string(UCS_PTR_STATUS(req)));
      }  // else: in flight; ControlSent frees buffer and request
      return;
    }
    case OutOp::Kind::kBulk: {
      rp.cb.send = BulkDone;
      rp.user_data = op.op;
      Started(op.op,
              ucp_am_send_nbx(p->data_ep, kAmId, op.op->owned.data(), op.op->owned.size(), op.data,
                              op.size, &rp),
              "ucp_am_send_nbx(bulk)");
      return;
    }
    case OutOp::Kind::kGet: {
      ucs_status_t status = ucp_ep_rkey_unpack(p->data_ep, op.op->owned.data(), &op.op->rkey);
      if (status != UCS_OK) {
        op.op->rkey = nullptr;
        FinishOp(op.op, UcsError(status, "ucp_ep_rkey_unpack"), true);
        return;
      }
      rp.cb.send = GetDone;
      rp.user_data = op.op;
      Started(op.op,
              ucp_get_nbx(p->data_ep, const_cast<void*>(op.data), op.size, op.remote_address,
                          op.op->rkey, &rp),
              "ucp_get_nbx");
      return;
    }
  }
}

PendingOp* Transport::Impl::TrackOp(Rank peer_rank, Completion done) {
  Peer* p = peer(peer_rank);
  PRISM_CHECK(p != nullptr, "TrackOp for rank {} (self or out of range)", peer_rank);
  auto* op = new PendingOp();
  op->impl = this;
  op->peer = peer_rank;
  op->id = next_op_id.fetch_add(1, std::memory_order_relaxed);
  op->done = std::move(done);
  bool alive;
  {
    std::lock_guard lock(p->pending_mu);
    p->pending.emplace(op->id, op);
    alive = p->alive.load();
  }
  // A death noticed before the insert did not see this op: fail it here.
  if (!alive) {
    FinishOp(op, PeerGone(peer_rank), /*release=*/true);
    return nullptr;
  }
  return op;
}

void Transport::Impl::FinishOp(PendingOp* op, Status status, bool release) {
  Peer* p = peer(op->peer);
  {
    std::lock_guard lock(p->pending_mu);
    p->pending.erase(op->id);
  }
  if (!op->finished.exchange(true) && op->done) op->done(std::move(status));
  if (release) {
    if (op->rkey != nullptr) ucp_rkey_destroy(op->rkey);
    delete op;
  }
}

void Transport::Impl::WriteFrame(std::byte* out, MessageType type, uint32_t meta_size,
                                 std::span<const std::byte> rest) const {
  FrameHeader frame{kFrameMagic, kFrameVersion, type, rank, meta_size};
  std::memcpy(out, &frame, sizeof frame);
  if (!rest.empty()) std::memcpy(out + sizeof frame, rest.data(), rest.size());
}

Status Transport::Impl::Send(Rank destination, MessageType type,
                             std::span<const std::byte> payload) {
  if (destination == rank) {
    messages_sent.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(loopback_mu);
      loopback.emplace_back(type, std::vector<std::byte>(payload.begin(), payload.end()));
      loopback_pending.store(true, std::memory_order_release);
    }
    WakeProgressThread();
    return Status::Ok();
  }
  Peer* p = peer(destination);
  if (p == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument, "no rank " + std::to_string(destination) +
                                                      " in a job of " + std::to_string(size) +
                                                      " ranks");
  }
  if (!p->alive.load(std::memory_order_relaxed)) return PeerGone(destination);
  // Header and payload live in one allocation until UCX is done with them (UCX 1.13 cannot copy
  // the header itself).
  auto* buffer = static_cast<std::byte*>(::operator new(sizeof(FrameHeader) + payload.size()));
  WriteFrame(buffer, type, /*meta_size=*/0, payload);
  messages_sent.fetch_add(1, std::memory_order_relaxed);
  OutOp op;
  op.kind = OutOp::Kind::kControl;
  op.peer = destination;
  op.buffer = buffer;
  op.payload_size = payload.size();
  Run(op);
  return Status::Ok();
}

Status Transport::Impl::SendBulk(Rank destination, MessageType type,
                                 std::span<const std::byte> meta, std::span<const std::byte> body,
                                 Completion done) {
  if (destination == rank) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "SendBulk to oneself: use the local object instead");
  }
  Peer* p = peer(destination);
  if (p == nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "no rank " + std::to_string(destination));
  PendingOp* op = TrackOp(destination, std::move(done));
  if (op == nullptr) return Status::Ok();  // already completed with kPeerDead
  op->owned.resize(sizeof(FrameHeader) + meta.size());
  WriteFrame(op->owned.data(), type, static_cast<uint32_t>(meta.size()), meta);
  messages_sent.fetch_add(1, std::memory_order_relaxed);
  OutOp out;
  out.kind = OutOp::Kind::kBulk;
  out.peer = destination;
  out.op = op;
  out.data = body.data();
  out.size = body.size();
  Run(out);
  return Status::Ok();
}

void Transport::Impl::Get(Rank source, uint64_t remote_address, std::span<const std::byte> rkey,
                          void* local, size_t length, Completion done) {
  Peer* p = peer(source);
  if (p == nullptr) {
    done(MakeError(ErrorCode::kInvalidArgument,
                   "RMA get from rank " + std::to_string(source) + ": not a peer"));
    return;
  }
  PendingOp* op = TrackOp(source, std::move(done));
  if (op == nullptr) return;
  op->owned.assign(rkey.begin(), rkey.end());  // unpacked by the token holder
  OutOp out;
  out.kind = OutOp::Kind::kGet;
  out.peer = source;
  out.op = op;
  out.data = local;
  out.size = length;
  out.remote_address = remote_address;
  Run(out);
}

void Transport::Impl::DropMalformed(const char* why, Rank source) {
  uint64_t n = malformed_dropped.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n <= 10 || n % 1000 == 0) {
    Log().warn("dropped a malformed message ({} so far){}: {}", n,
               source == kNoRank ? std::string() : " from rank " + std::to_string(source), why);
  }
}

void Transport::Impl::DispatchControl(Rank source, MessageType type,
                                      std::span<const std::byte> payload) {
  const Handler& handler = handlers[type];
  if (!handler) {
    DropMalformed("no handler for its message type", source);
    return;
  }
  handler(source, payload);
}

ucs_status_t Transport::Impl::OnActiveMessage(const void* header, size_t header_length, void* data,
                                              size_t length, const ucp_am_recv_param_t* param) {
  messages_received.fetch_add(1, std::memory_order_relaxed);
  FrameHeader frame{};
  if (header_length < sizeof frame) {
    DropMalformed("frame shorter than its header", kNoRank);
    return UCS_OK;
  }
  std::memcpy(&frame, header, sizeof frame);
  if (frame.magic != kFrameMagic || frame.version != kFrameVersion) {
    DropMalformed("bad magic or version", kNoRank);
    return UCS_OK;
  }
  if (frame.source < 0 || frame.source >= size || frame.source == rank) {
    DropMalformed("impossible source rank", kNoRank);
    return UCS_OK;
  }
  if (header_length != sizeof frame + frame.payload_size) {
    DropMalformed("header length does not match the frame", frame.source);
    return UCS_OK;
  }
  std::span<const std::byte> meta(static_cast<const std::byte*>(header) + sizeof frame,
                                  frame.payload_size);
  bool rendezvous = (param->recv_attr & UCP_AM_RECV_ATTR_FLAG_RNDV) != 0;

  if (const BulkHandler& bulk = bulk_handlers[frame.type]) {
    IncomingBulkImpl body(this, frame.source, data, length, rendezvous);
    bulk(frame.source, meta, body);
    return UCS_OK;
  }
  if (!meta.empty()) {
    DropMalformed("control message with a bulk meta part", frame.source);
    return UCS_OK;
  }
  if (!rendezvous) {
    DispatchControl(frame.source, frame.type,
                    std::span(static_cast<const std::byte*>(data), length));
    return UCS_OK;
  }
  // A large control message: receive it whole, then dispatch.
  if (!handlers[frame.type]) {
    DropMalformed("no handler for its message type", frame.source);
    return UCS_OK;
  }
  PendingOp* op = TrackOp(frame.source, nullptr);
  if (op == nullptr) return UCS_OK;
  op->owned.resize(length);
  op->type = frame.type;
  ucp_request_param_t rp{};
  rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
  rp.cb.recv_am = [](void* request, ucs_status_t status, size_t, void* user) {
    ucp_request_free(request);
    auto* pending = static_cast<PendingOp*>(user);
    if (status == UCS_OK && !pending->finished.load()) {
      pending->impl->DispatchControl(pending->peer, pending->type, pending->owned);
    }
    pending->impl->FinishOp(pending, Status::Ok(), true);
  };
  rp.user_data = op;
  ucs_status_ptr_t req = ucp_am_recv_data_nbx(worker, data, op->owned.data(), length, &rp);
  if (req == nullptr) {
    DispatchControl(frame.source, frame.type, op->owned);
    FinishOp(op, Status::Ok(), true);
  } else if (UCS_PTR_IS_ERR(req)) {
    FinishOp(op, UcsError(UCS_PTR_STATUS(req), "ucp_am_recv_data_nbx"), true);
  }  // else: in flight; the callback completes and frees the request
  return UCS_OK;
}

void Transport::Impl::DrainLoopback() {
  std::deque<std::pair<MessageType, std::vector<std::byte>>> batch;
  {
    std::lock_guard lock(loopback_mu);
    batch.swap(loopback);
    loopback_pending.store(false, std::memory_order_relaxed);
  }
  messages_received.fetch_add(batch.size(), std::memory_order_relaxed);
  for (auto& [type, payload] : batch) DispatchControl(rank, type, payload);
}

}  // namespace prism::transport
