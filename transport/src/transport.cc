// Transport set-up: UCX context and worker, address exchange, endpoints, wire-up, peer failure
// and tear-down.

#include "prism/transport/transport.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prism/common/clock.h"
#include "prism/common/wire.h"
#include "transport_impl.h"
#include "ucx_call.h"

namespace prism::transport {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("transport");
  return logger;
}

namespace {

constexpr uint16_t kAmId = 0;

// Host identity: the host name plus the network namespace, so that ranks in separate network
// namespaces on one machine (simulated hosts) count as different hosts.
std::string LocalHostKey(const std::string& hostname) {
  struct stat st {};
  std::string key = hostname;
  if (stat("/proc/self/ns/net", &st) == 0) key += "/netns:" + std::to_string(st.st_ino);
  return key;
}

ucs_status_t AmCallback(void* arg, const void* header, size_t header_length, void* data,
                        size_t length, const ucp_am_recv_param_t* param) {
  return static_cast<Transport::Impl*>(arg)->OnActiveMessage(header, header_length, data, length,
                                                             param);
}

void EndpointErrorCallback(void* arg, ucp_ep_h /*ep*/, ucs_status_t status) {
  auto* peer = static_cast<Peer*>(arg);
  peer->impl->OnPeerError(*peer, status);
}

}  // namespace

Status Transport::Impl::Init(Bootstrap& bootstrap) {
  rank = bootstrap.rank();
  size = bootstrap.size();
  hostnames = bootstrap.hostnames();

  ucp_config_t* config = nullptr;
  PRISM_UCS_CALL(ucp_config_read(nullptr, nullptr, &config));
  ucp_params_t params{};
  params.field_mask = UCP_PARAM_FIELD_FEATURES | UCP_PARAM_FIELD_MT_WORKERS_SHARED;
  params.features = UCP_FEATURE_AM | UCP_FEATURE_RMA | UCP_FEATURE_WAKEUP;
  params.mt_workers_shared = 1;
  ucs_status_t status = ucp_init(&params, config, &context);
  ucp_config_release(config);
  if (status != UCS_OK) return UcsError(status, "ucp_init");

  ucp_worker_params_t worker_params{};
  worker_params.field_mask = UCP_WORKER_PARAM_FIELD_THREAD_MODE;
  // Serialized: threads take turns through the worker token (messaging.cc), so UCX needs no
  // locks of its own.
  worker_params.thread_mode = UCS_THREAD_MODE_SERIALIZED;
  PRISM_UCS_CALL(ucp_worker_create(context, &worker_params, &worker));

  ucp_am_handler_param_t am{};
  am.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
                  UCP_AM_HANDLER_PARAM_FIELD_ARG | UCP_AM_HANDLER_PARAM_FIELD_FLAGS;
  am.id = kAmId;
  am.cb = AmCallback;
  am.arg = this;
  am.flags = UCP_AM_FLAG_WHOLE_MSG;
  PRISM_UCS_CALL(ucp_worker_set_am_recv_handler(worker, &am));

  PRISM_UCS_CALL(ucp_worker_get_efd(worker, &worker_fd));
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || event_fd < 0)
    return MakeError(ErrorCode::kIoError, "epoll_create1/eventfd failed");
  for (int fd : {worker_fd, event_fd}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
      return MakeError(ErrorCode::kIoError, "epoll_ctl failed");
  }
  return Connect(bootstrap);
}

Status Transport::Impl::Connect(Bootstrap& bootstrap) {
  ucp_worker_attr_t attr{};
  attr.field_mask = UCP_WORKER_ATTR_FIELD_ADDRESS;
  PRISM_UCS_CALL(ucp_worker_query(worker, &attr));
  std::vector<std::byte> mine;
  WireWriter w(mine);
  w.String(LocalHostKey(hostnames[rank]));
  w.Bytes(std::span(reinterpret_cast<const std::byte*>(attr.address), attr.address_length));
  ucp_worker_release_address(worker, attr.address);
  auto all = bootstrap.AllGather(mine);
  if (!all) return all.error();

  peers.resize(size);
  host_keys.resize(size);
  std::vector<std::vector<std::byte>> addresses(size);
  for (Rank r = 0; r < size; ++r) {
    WireReader reader((*all)[r]);
    host_keys[r] = reader.String();
    auto address = reader.Bytes();
    if (!reader.AtEnd())
      return MakeError(ErrorCode::kMalformed,
                       "bad bootstrap record from rank " + std::to_string(r));
    addresses[r].assign(address.begin(), address.end());
  }
  for (Rank r = 0; r < size; ++r) {
    if (r == rank) continue;
    auto peer = std::make_unique<Peer>();
    peer->rank = r;
    peer->impl = this;
    peer->same_host = host_keys[r] == host_keys[rank];
    auto make_ep = [&](ucp_err_handling_mode_t mode, ucp_ep_h* ep) -> Status {
      ucp_ep_params_t ep_params{};
      ep_params.field_mask =
          UCP_EP_PARAM_FIELD_REMOTE_ADDRESS | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE;
      ep_params.address = reinterpret_cast<const ucp_address_t*>(addresses[r].data());
      ep_params.err_mode = mode;
      if (mode == UCP_ERR_HANDLING_MODE_PEER) {
        ep_params.field_mask |= UCP_EP_PARAM_FIELD_ERR_HANDLER;
        ep_params.err_handler.cb = EndpointErrorCallback;
        ep_params.err_handler.arg = peer.get();
      }
      PRISM_UCS_CALL(ucp_ep_create(worker, &ep_params, ep));
      return Status::Ok();
    };
    // Same host: shared memory at full speed, which UCX 1.13 offers only without error
    // handling; a separate PEER-mode (tcp) endpoint reports the peer's death. Other hosts:
    // the network transport supports error handling directly.
    if (peer->same_host) {
      if (Status s = make_ep(UCP_ERR_HANDLING_MODE_NONE, &peer->data_ep); !s) return s;
      if (options.peer_failure_detection) {
        if (Status s = make_ep(UCP_ERR_HANDLING_MODE_PEER, &peer->watch_ep); !s) return s;
      }
    } else {
      ucp_err_handling_mode_t mode =
          options.peer_failure_detection ? UCP_ERR_HANDLING_MODE_PEER : UCP_ERR_HANDLING_MODE_NONE;
      if (Status s = make_ep(mode, &peer->data_ep); !s) return s;
    }
    peers[r] = std::move(peer);
  }

  // Wire-up: one hello on every endpoint, so that no job message pays for connection set-up
  // (50-240 ms for a tcp endpoint) and every watcher is armed before the job starts.
  std::atomic<int> hellos{0};
  handlers[kHello] = [&](Rank, std::span<const std::byte>) { hellos.fetch_add(1); };
  int expected = 0;
  for (Rank r = 0; r < size; ++r) {
    Peer* p = peer(r);
    if (p == nullptr) continue;
    for (ucp_ep_h ep : {p->data_ep, p->watch_ep}) {
      if (ep == nullptr) continue;
      ++expected;
      FrameHeader frame{kFrameMagic, kFrameVersion, kHello, rank, 0};
      auto* buf = new FrameHeader(frame);
      ucp_request_param_t rp{};
      rp.op_attr_mask = UCP_OP_ATTR_FIELD_CALLBACK | UCP_OP_ATTR_FIELD_USER_DATA;
      rp.cb.send = [](void* request, ucs_status_t, void* user) {
        ucp_request_free(request);
        delete static_cast<FrameHeader*>(user);
      };
      rp.user_data = buf;
      ucs_status_ptr_t req = ucp_am_send_nbx(ep, kAmId, buf, sizeof *buf, nullptr, 0, &rp);
      if (req == nullptr) {
        delete buf;
      } else if (UCS_PTR_IS_ERR(req)) {
        delete buf;
        return UcsError(UCS_PTR_STATUS(req), "ucp_am_send_nbx(hello)");
      }  // else: the callback frees buffer and request
    }
  }
  int64_t deadline = NowNanos() + options.startup_timeout_ms * 1'000'000;
  while (hellos.load() < expected) {
    ucp_worker_progress(worker);
    if (NowNanos() > deadline) {
      return MakeError(ErrorCode::kTimeout, "wire-up: got " + std::to_string(hellos.load()) +
                                                " of " + std::to_string(expected) +
                                                " hellos within " +
                                                std::to_string(options.startup_timeout_ms) + " ms");
    }
  }
  if (Status s = bootstrap.Barrier([this] { ucp_worker_progress(worker); }); !s) return s;
  handlers[kHello] = nullptr;
  Log().debug("connected to {} peers ({} endpoints)", size - 1, expected);
  return Status::Ok();
}

void Transport::Impl::OnPeerError(Peer& p, ucs_status_t status) {
  if (!p.alive.exchange(false)) return;
  std::string why = std::string("UCX reported ") + ucs_status_string(status) +
                    " on the endpoint to rank " + std::to_string(p.rank) + " (" +
                    hostnames[p.rank] + ")";
  bool expected = p.departing.load() || stopped;
  if (expected) {
    Log().debug("rank {} left: {}", p.rank, why);
  } else {
    Log().error("rank {} died: {}", p.rank, why);
  }
  // Operations that wait on the dead peer would otherwise wait for ever (shared memory never
  // reports them).
  std::vector<Completion> to_fail;
  {
    std::lock_guard lock(p.pending_mu);
    for (auto& [id, op] : p.pending) {
      if (!op->finished.exchange(true)) to_fail.push_back(std::move(op->done));
    }
  }
  Status dead = MakeError(ErrorCode::kPeerDead, "rank " + std::to_string(p.rank) + " died: " + why);
  for (auto& done : to_fail) {
    if (done) done(dead);
  }
  if (!expected) {
    std::lock_guard lock(failure_mu);
    for (auto& handler : failure_handlers) handler(p.rank, why);
  }
}

void Transport::Impl::Shutdown() {
  if (stopped) return;
  stopped = true;
  for (auto& p : peers) {
    if (p) p->departing = true;
  }
  if (progress_thread.joinable()) {
    progress_thread.request_stop();
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(event_fd, &one, sizeof one);
    progress_thread.join();
  }
  // Nobody else may use the worker now; wait for a straggler that still holds the token.
  while (worker != nullptr && !AcquireToken()) std::this_thread::yield();
  if (worker != nullptr) {
    DrainOutbox();
    // Flush what is still queued to live peers; force-close PEER-mode endpoints (their remote
    // sides use error handling too); leave endpoints to dead shared-memory peers alone (closing
    // them would wait for ever).
    std::vector<ucs_status_ptr_t> closing;
    for (auto& p : peers) {
      if (!p) continue;
      bool alive = p->alive.load();
      auto close = [&](ucp_ep_h ep, bool force) {
        if (ep == nullptr) return;
        ucp_request_param_t rp{};
        rp.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        rp.flags = force ? UCP_EP_CLOSE_FLAG_FORCE : 0;
        ucs_status_ptr_t req = ucp_ep_close_nbx(ep, &rp);
        if (UCS_PTR_IS_PTR(req)) closing.push_back(req);
      };
      bool data_has_peer_mode = !p->same_host && options.peer_failure_detection;
      if (alive || data_has_peer_mode) close(p->data_ep, /*force=*/!alive || data_has_peer_mode);
      close(p->watch_ep, /*force=*/true);
    }
    int64_t deadline = NowNanos() + 2'000'000'000;
    for (ucs_status_ptr_t req : closing) {
      while (ucp_request_check_status(req) == UCS_INPROGRESS && NowNanos() < deadline)
        ucp_worker_progress(worker);
      if (ucp_request_check_status(req) != UCS_INPROGRESS) ucp_request_free(req);
    }
  }
  if (worker != nullptr) {
    progress_busy.store(false);
    ucp_worker_destroy(worker);
  }
  if (context != nullptr) ucp_cleanup(context);
  worker = nullptr;
  context = nullptr;
  if (epoll_fd >= 0) close(epoll_fd);
  if (event_fd >= 0) close(event_fd);
  epoll_fd = event_fd = -1;
}

// --- Transport: thin forwarding to Impl.

Result<std::unique_ptr<Transport>> Transport::Create(Bootstrap& bootstrap,
                                                     const TransportOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::unique_ptr<Transport> transport(new Transport(std::move(impl)));
  if (Status s = transport->impl_->Init(bootstrap); !s) return s.error();
  return transport;
}

Transport::Transport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transport::~Transport() { Stop(); }

Rank Transport::rank() const { return impl_->rank; }
int Transport::size() const { return impl_->size; }
bool Transport::SameHost(Rank peer) const {
  if (peer < 0 || peer >= impl_->size) return false;
  return peer == impl_->rank || impl_->host_keys[peer] == impl_->host_keys[impl_->rank];
}
const std::string& Transport::hostname(Rank peer) const {
  static const std::string kUnknown = "(no such rank)";
  return peer >= 0 && peer < impl_->size ? impl_->hostnames[peer] : kUnknown;
}

void Transport::SetHandler(MessageType type, Handler handler) {
  impl_->handlers[type] = std::move(handler);
}
void Transport::SetBulkHandler(MessageType type, BulkHandler handler) {
  impl_->bulk_handlers[type] = std::move(handler);
}
void Transport::AddPeerFailureHandler(PeerFailureHandler handler) {
  std::lock_guard lock(impl_->failure_mu);
  impl_->failure_handlers.push_back(std::move(handler));
}

Status Transport::Start(Bootstrap& bootstrap) {
  if (impl_->started) return MakeError(ErrorCode::kFailedPrecondition, "transport already started");
  // Every rank has installed its handlers before any rank sends a job message.
  if (Status s = bootstrap.Barrier([this] { impl_->TryProgress(false); }); !s) return s;
  impl_->started = true;
  impl_->progress_thread =
      std::jthread([impl = impl_.get()](std::stop_token stop) { impl->ProgressLoop(stop); });
  return Status::Ok();
}

void Transport::Stop() { impl_->Shutdown(); }

Status Transport::Send(Rank destination, MessageType type, std::span<const std::byte> payload) {
  return impl_->Send(destination, type, payload);
}
Status Transport::SendBulk(Rank destination, MessageType type, std::span<const std::byte> meta,
                           std::span<const std::byte> body, Completion done) {
  return impl_->SendBulk(destination, type, meta, body, std::move(done));
}
void Transport::Get(Rank source, uint64_t remote_address, std::span<const std::byte> rkey,
                    void* local, size_t size, Completion done) {
  impl_->Get(source, remote_address, rkey, local, size, std::move(done));
}

Result<std::unique_ptr<MemoryRegion>> Transport::RegisterMemory(void* address, size_t size) {
  ucp_mem_map_params_t params{};
  params.field_mask = UCP_MEM_MAP_PARAM_FIELD_ADDRESS | UCP_MEM_MAP_PARAM_FIELD_LENGTH;
  params.address = address;
  params.length = size;
  ucp_mem_h memh = nullptr;
  PRISM_UCS_CALL(ucp_mem_map(impl_->context, &params, &memh));
  void* packed = nullptr;
  size_t packed_size = 0;
  ucs_status_t status = ucp_rkey_pack(impl_->context, memh, &packed, &packed_size);
  if (status != UCS_OK) {
    ucp_mem_unmap(impl_->context, memh);
    return UcsError(status, "ucp_rkey_pack");
  }
  std::vector<std::byte> rkey(static_cast<std::byte*>(packed),
                              static_cast<std::byte*>(packed) + packed_size);
  ucp_rkey_buffer_release(packed);
  return std::unique_ptr<MemoryRegion>(new MemoryRegion(
      impl_->context, memh, reinterpret_cast<uint64_t>(address), size, std::move(rkey)));
}

MemoryRegion::~MemoryRegion() {
  ucp_mem_unmap(static_cast<ucp_context_h>(context_), static_cast<ucp_mem_h>(memh_));
}

bool Transport::running() const { return impl_->started && !impl_->stopped; }

bool Transport::IsAlive(Rank peer) const {
  if (peer == impl_->rank) return true;
  Peer* p = impl_->peer(peer);
  return p != nullptr && p->alive.load();
}
void Transport::MarkDeparting(Rank peer) {
  if (Peer* p = impl_->peer(peer)) p->departing = true;
}
void Transport::MarkAllDeparting() {
  for (auto& p : impl_->peers) {
    if (p) p->departing = true;
  }
}

bool Transport::TryProgress() {
  impl_->last_external_poll_ns.store(NowNanos(), std::memory_order_relaxed);
  return impl_->TryProgress(/*external=*/true);
}

void Transport::ReleasePolling() { impl_->ReleasePolling(); }

bool Transport::WaitUntil(const std::function<bool()>& ready, Event& event, int64_t deadline_ns,
                          int64_t spin_ns) {
  return impl_->WaitUntil(ready, event, deadline_ns, spin_ns);
}

Transport::Stats Transport::stats() const {
  return Stats{impl_->messages_sent.load(), impl_->messages_received.load(),
               impl_->malformed_dropped.load()};
}

}  // namespace prism::transport
