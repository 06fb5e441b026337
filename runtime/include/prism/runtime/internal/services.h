#pragma once
/// What the runtime lends to the components above it (the collectives): this rank's transport,
/// the controller's key-value store on rank 0, peer-failure notices, message handlers for the
/// collective message range, and the worker pool's blocking hint. Not a user API.
///
/// Every function throws prism::PrismError when Prism is not initialised, except the handler
/// and subscription registries, which are process-wide and outlive a runtime (a process may
/// Init again after Shutdown).
///
/// Thread contract: thread-safe. Handlers run in the transport's progress context (they must not
/// block); peer-failure callbacks too.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/transport/message.h"

namespace prism::transport {
class Transport;
class IncomingBulk;
}  // namespace prism::transport

namespace prism::internal {

/// Keeps the live runtime (and so its transport) from being destroyed while held.
using RuntimeLease = std::shared_ptr<void>;
RuntimeLease LeaseRuntime();

/// This rank's transport; valid while a RuntimeLease is held.
transport::Transport& RankTransport();
/// A number that changes with every prism::Init of this process.
uint64_t RuntimeGeneration();
/// The actor whose method (or constructor) the calling thread runs; nil outside actors. A
/// thread-local read, cheap enough for every collective call.
ActorId CurrentActorId();

/// The controller's key-value store (kept by rank 0). timeout_ms < 0: no limit.
Status KvPut(const std::string& key, std::span<const std::byte> value, int64_t timeout_ms);
Result<std::optional<std::vector<std::byte>>> KvGet(const std::string& key, int64_t timeout_ms);
Result<std::vector<std::byte>> KvWait(const std::string& key, int64_t timeout_ms);
/// Removes every key that starts with `prefix`.
Status KvDelete(const std::string& prefix, int64_t timeout_ms);

/// Result of KvRendezvous: every participant's value by index, the rank each came from, and an
/// epoch number that no other rendezvous of the job returns.
struct KvGathered {
  uint64_t epoch = 0;
  std::vector<std::vector<std::byte>> values;
  std::vector<Rank> ranks;
};
/// Waits until participants 0..count-1 of `key` have all joined, each with its value.
Result<KvGathered> KvRendezvous(const std::string& key, int32_t count, int32_t index,
                                std::span<const std::byte> value, int64_t timeout_ms);

/// Handlers for message types in [kCollectiveTypesBegin, kCollectiveTypesEnd): the runtime
/// installs forwarders for the whole range at startup, so they may be set at any time. Control
/// messages use the lower half of the range, bulk messages (Transport::SendBulk) the upper half
/// from kServiceBulkTypesBegin (the transport routes every message of a type with a bulk handler
/// to that handler).
inline constexpr transport::MessageType kServiceBulkTypesBegin =
    transport::kCollectiveTypesBegin +
    (transport::kCollectiveTypesEnd - transport::kCollectiveTypesBegin) / 2;
using ServiceHandler = std::function<void(Rank source, std::span<const std::byte> payload)>;
using ServiceBulkHandler = std::function<void(Rank source, std::span<const std::byte> meta,
                                              transport::IncomingBulk& body)>;
/// Throws PrismError for a type outside the control (resp. bulk) half of the collective range.
void SetServiceHandler(transport::MessageType type, ServiceHandler handler);
void SetServiceBulkHandler(transport::MessageType type, ServiceBulkHandler handler);

/// Calls `callback(rank, why)` when a rank dies; returns an id for UnsubscribePeerFailure.
using PeerFailureCallback = std::function<void(Rank rank, const std::string& why)>;
uint64_t SubscribePeerFailure(PeerFailureCallback callback);
void UnsubscribePeerFailure(uint64_t id);

/// While alive on a worker thread, that worker's CPU is lent to other work (a long blocking
/// wait, such as a collective). No-op elsewhere.
class BlockingScope {
 public:
  BlockingScope();
  ~BlockingScope();
  BlockingScope(const BlockingScope&) = delete;
  BlockingScope& operator=(const BlockingScope&) = delete;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace prism::internal
