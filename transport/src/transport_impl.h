#pragma once
// Private state of Transport, shared by transport.cc (set-up, peers, failures), messaging.cc
// (sending, receiving, RMA) and progress.cc (progress thread, waiting).

#include <ucp/api/ucp.h>

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "prism/common/futex.h"
#include "prism/common/logging.h"
#include "prism/transport/transport.h"

namespace prism::transport {

spdlog::logger& Log();

/// An asynchronous operation with a completion that must also fire if the peer dies.
/// Deleted by whoever sees UCX finish with it; `done` runs exactly once.
struct PendingOp {
  Transport::Impl* impl = nullptr;
  Rank peer = kNoRank;
  uint64_t id = 0;
  std::atomic<bool> finished{false};
  Completion done;
  ucp_rkey_h rkey = nullptr;     // Get: destroyed when UCX is done
  std::vector<std::byte> owned;  // bulk meta (frame + meta) or received control payload
  MessageType type = 0;          // received control message: its type
};

/// A UCX call handed to whichever thread holds the worker (see Impl::Run).
struct OutOp {
  enum class Kind : uint8_t { kControl, kBulk, kGet };
  Kind kind = Kind::kControl;
  Rank peer = kNoRank;
  // kControl: one allocation holding the frame header and the payload, freed after the send.
  std::byte* buffer = nullptr;
  size_t payload_size = 0;
  // kBulk / kGet: the tracked operation; its `owned` bytes are the frame+meta (bulk) or the
  // packed rkey (get).
  PendingOp* op = nullptr;
  const void* data = nullptr;  // bulk body, or the local destination of a get
  size_t size = 0;
  uint64_t remote_address = 0;
};

/// One remote rank.
struct Peer {
  Transport::Impl* impl = nullptr;
  Rank rank = kNoRank;
  ucp_ep_h data_ep = nullptr;   // shared memory (no error handling) on this host, tcp otherwise
  ucp_ep_h watch_ep = nullptr;  // PEER-mode tcp endpoint that only watches a same-host peer
  bool same_host = false;
  std::atomic<bool> alive{true};
  std::atomic<bool> departing{false};
  std::mutex pending_mu;
  std::unordered_map<uint64_t, PendingOp*> pending;
};

class Transport::Impl {
 public:
  // --- transport.cc
  Status Init(Bootstrap& bootstrap);
  Status Connect(Bootstrap& bootstrap);
  void Shutdown();
  void OnPeerError(Peer& peer, ucs_status_t status);
  Peer* peer(Rank r) { return (r >= 0 && r < size && r != rank) ? peers[r].get() : nullptr; }

  // --- messaging.cc
  // Every UCX worker call happens while holding the worker token (progress_busy), so the worker
  // runs in UCX's cheap serialized mode and no thread ever spins on a UCX lock: a thread that
  // cannot take the token queues its call for the holder, who runs it before letting go.
  bool AcquireToken();
  void ReleaseToken();
  void Run(OutOp op);
  void Execute(OutOp& op);
  void Started(PendingOp* op, ucs_status_ptr_t request, const char* call);
  void DrainOutbox();
  // Writes the frame header, then `rest` (a control payload, or a bulk message's meta part).
  void WriteFrame(std::byte* out, MessageType type, uint32_t meta_size,
                  std::span<const std::byte> rest) const;
  Status Send(Rank destination, MessageType type, std::span<const std::byte> payload);
  Status SendBulk(Rank destination, MessageType type, std::span<const std::byte> meta,
                  std::span<const std::byte> body, Completion done);
  void Get(Rank source, uint64_t remote_address, std::span<const std::byte> rkey, void* local,
           size_t size, Completion done);
  ucs_status_t OnActiveMessage(const void* header, size_t header_length, void* data, size_t length,
                               const ucp_am_recv_param_t* param);
  void DispatchControl(Rank source, MessageType type, std::span<const std::byte> payload);
  PendingOp* TrackOp(Rank peer, Completion done);
  void FinishOp(PendingOp* op, Status status, bool release);
  void DrainLoopback();
  void DropMalformed(const char* why, Rank source);

  // --- progress.cc
  bool TryProgress(bool external);
  void ProgressLoop(const std::stop_token& stop);
  bool WaitUntil(const std::function<bool()>& ready, Event& event, int64_t deadline_ns,
                 int64_t spin_ns);
  void WakeProgressThread();
  void ReleasePolling();

  TransportOptions options;
  Rank rank = 0;
  int size = 1;
  std::vector<std::string> hostnames;
  std::vector<std::string> host_keys;
  ucp_context_h context = nullptr;
  ucp_worker_h worker = nullptr;
  std::vector<std::unique_ptr<Peer>> peers;  // indexed by rank; null for self

  std::array<Handler, 256> handlers;
  std::array<BulkHandler, 256> bulk_handlers;
  std::vector<PeerFailureHandler> failure_handlers;
  std::mutex failure_mu;  // serialises failure handling

  // Progress and the worker token.
  std::atomic<bool> progress_busy{false};
  std::mutex outbox_mu;
  std::vector<OutOp> outbox;
  std::atomic<bool> outbox_pending{false};
  std::atomic<int64_t> last_external_poll_ns{0};
  std::atomic<bool> progress_thread_sleeping{false};
  Event takeover_event;  // an external poller stopped
  int epoll_fd = -1;
  int event_fd = -1;
  int worker_fd = -1;
  std::jthread progress_thread;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};

  // Messages to oneself, delivered by the next progress call.
  std::mutex loopback_mu;
  std::deque<std::pair<MessageType, std::vector<std::byte>>> loopback;
  std::atomic<bool> loopback_pending{false};

  std::atomic<uint64_t> next_op_id{1};
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> malformed_dropped{0};
};

}  // namespace prism::transport
