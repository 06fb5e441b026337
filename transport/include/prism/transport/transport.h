#pragma once
/// Transport: every byte between ranks after bootstrap, over UCX.
///
/// - Control messages: small framed active messages (eager), handled by a registered Handler.
/// - Bulk messages: a small meta part plus a large body that the receiver places where it wants
///   (UCX rendezvous, zero-copy where the transport allows).
/// - RMA: memory registered with RegisterMemory can be read by peers with Get.
/// - Peer failure is an event: every peer is watched through a UCX endpoint in error-handling
///   mode, and operations pending on a dead peer complete with ErrorCode::kPeerDead.
///
/// Endpoints to peers on the same host use UCX's shared-memory transports (no error handling,
/// full speed); a second, idle tcp endpoint in PEER mode watches each of them. Peers on other
/// hosts get one PEER-mode endpoint for both.
///
/// Progress: whoever needs it calls TryProgress() (waiting threads do, so the common case has no
/// thread hand-off); a progress thread takes over when nobody else is polling and sleeps on the
/// worker's event fd when the worker is idle.
///
/// Handlers and completions run in progress context, on whichever thread is progressing: they
/// must not block or call TryProgress, and may Send.
///
/// Thread contract: Send, SendBulk, Get, RegisterMemory, TryProgress, WaitUntil and the peer
/// queries are thread-safe. SetHandler/SetBulkHandler/AddPeerFailureHandler before Start().

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prism/common/futex.h"
#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/transport/bootstrap.h"
#include "prism/transport/memory_region.h"
#include "prism/transport/message.h"

namespace prism::transport {

/// Completion of an asynchronous operation; runs in progress context.
using Completion = std::function<void(Status)>;

/// The large body of a bulk message, offered to its handler.
class IncomingBulk {
 public:
  virtual ~IncomingBulk() = default;
  virtual size_t size() const = 0;
  /// Places the body at `dst` (size() bytes, valid until `done` runs). `done` may run before this
  /// returns. Call at most once, and only inside the handler; a body not received is dropped.
  virtual void ReceiveInto(void* dst, Completion done) = 0;
};

struct TransportOptions {
  bool peer_failure_detection = true;  ///< Watch peers with PEER-mode endpoints.
  int64_t progress_spin_us = 100;      ///< Polling after the last event before sleeping.
  int64_t startup_timeout_ms = 60000;  ///< Longest wire-up at Start().
};

class Transport {
 public:
  using Handler = std::function<void(Rank source, std::span<const std::byte> payload)>;
  using BulkHandler =
      std::function<void(Rank source, std::span<const std::byte> meta, IncomingBulk& body)>;
  using PeerFailureHandler = std::function<void(Rank peer, const std::string& why)>;

  /// Creates the UCX context and worker and exchanges addresses through `bootstrap`
  /// (collective: every rank calls it).
  static Result<std::unique_ptr<Transport>> Create(Bootstrap& bootstrap,
                                                   const TransportOptions& options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  Rank rank() const;
  int size() const;
  /// True when `peer` runs on this host (same host name and network namespace).
  bool SameHost(Rank peer) const;
  const std::string& hostname(Rank peer) const;

  void SetHandler(MessageType type, Handler handler);
  void SetBulkHandler(MessageType type, BulkHandler handler);
  void AddPeerFailureHandler(PeerFailureHandler handler);

  /// Waits until every rank has installed its handlers (collective), then starts the progress
  /// thread. Endpoints were connected by Create().
  Status Start(Bootstrap& bootstrap);
  /// Stops the progress thread and closes endpoints. Peers are expected to leave too: their
  /// disappearance is no longer reported as a failure.
  void Stop();

  /// Sends a control message; the payload is copied. Sending to oneself loops back.
  Status Send(Rank destination, MessageType type, std::span<const std::byte> payload);
  /// Sends `meta` (copied, at most a few KiB) and `body` (by reference: it must stay valid until
  /// `done` runs).
  Status SendBulk(Rank destination, MessageType type, std::span<const std::byte> meta,
                  std::span<const std::byte> body, Completion done);

  /// Registers memory for peers' RMA gets.
  Result<std::unique_ptr<MemoryRegion>> RegisterMemory(void* address, size_t size);
  /// Reads `size` bytes at `remote_address` of `source` (packed `rkey`) into `local`.
  void Get(Rank source, uint64_t remote_address, std::span<const std::byte> rkey, void* local,
           size_t size, Completion done);

  bool IsAlive(Rank peer) const;
  /// Between Start() and Stop().
  bool running() const;
  /// Peers whose disappearance from now on is expected (they are shutting down).
  void MarkDeparting(Rank peer);
  void MarkAllDeparting();

  /// Progresses the worker unless another thread is doing so; true if anything happened. The
  /// progress thread stays out of the way while other threads call this.
  bool TryProgress();
  /// A thread that polled with TryProgress and is about to sleep: the progress thread takes
  /// over at once instead of after a grace period.
  void ReleasePolling();

  /// Polls until `ready()` or `deadline_ns` (NowNanos() clock; negative: none). After `spin_ns`
  /// of fruitless polling it sleeps on `event` (notified by whoever makes `ready()` true) and
  /// leaves polling to the progress thread. Returns ready(); returns early (false) once the
  /// transport has stopped.
  bool WaitUntil(const std::function<bool()>& ready, Event& event, int64_t deadline_ns,
                 int64_t spin_ns);

  /// Counters for tests and benchmarks.
  struct Stats {
    uint64_t messages_sent = 0;
    uint64_t messages_received = 0;
    uint64_t malformed_dropped = 0;
  };
  Stats stats() const;

  class Impl;

 private:
  explicit Transport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prism::transport
