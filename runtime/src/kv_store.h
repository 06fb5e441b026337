#pragma once
// KvStore: the controller's key-value store (rank 0 keeps the table; every rank is a client).
//
// Keys are strings, values bytes. Put replaces, Get reads, Wait blocks until the key exists,
// Delete removes every key with a prefix, and Rendezvous gathers one value from each of `count`
// participants (indices 0..count-1) under a key and hands all of them, plus a fresh epoch number
// unique in the job, to every participant once the last one arrived. Upper components (the
// collectives) use it for group rendezvous; it is reached through
// prism/runtime/internal/services.h.
//
// Failure: a request whose rank 0 died fails with kPeerDead; rank 0 drops the waiters and the
// rendezvous entries of a rank that died, so that a later round starts clean.
//
// Thread contract: the client calls are thread-safe and block the calling thread (they drive the
// transport's progress while waiting); handlers run in progress context.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "prism/common/futex.h"
#include "prism/common/result.h"
#include "prism/transport/message.h"
#include "prism/transport/transport.h"

namespace prism::runtime {

/// Message types of the store (runtime range, values 90..91).
enum KvMessage : transport::MessageType {
  kKvRequest = transport::kRuntimeTypesBegin + 26,  ///< any -> rank 0: a request
  kKvReply = transport::kRuntimeTypesBegin + 27,    ///< rank 0 -> requester: its answer
};

class KvStore {
 public:
  /// What a completed rendezvous returns: the values by participant index, the ranks that sent
  /// them, and an epoch number no other rendezvous of this job returns.
  struct Gathered {
    uint64_t epoch = 0;
    std::vector<std::vector<std::byte>> values;
    std::vector<Rank> ranks;
  };

  KvStore(transport::Transport& transport, Rank rank);
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  /// Installs the message and peer-failure handlers (before the transport starts).
  void RegisterHandlers();

  Status Put(const std::string& key, std::span<const std::byte> value, int64_t timeout_ms);
  /// The value, or nullopt when the key is absent.
  Result<std::optional<std::vector<std::byte>>> Get(const std::string& key, int64_t timeout_ms);
  /// Waits until `key` exists (kTimeout after `timeout_ms`; negative: no limit).
  Result<std::vector<std::byte>> Wait(const std::string& key, int64_t timeout_ms);
  /// Removes every key that starts with `prefix`.
  Status Delete(const std::string& prefix, int64_t timeout_ms);
  /// Joins the rendezvous `key` as participant `index` of `count` with `value`.
  Result<Gathered> Rendezvous(const std::string& key, int32_t count, int32_t index,
                              std::span<const std::byte> value, int64_t timeout_ms);

 private:
  enum class Op : uint8_t { kPut = 1, kGet = 2, kWait = 3, kDelete = 4, kRendezvous = 5 };
  struct Call {
    bool done = false;
    Status status;
    std::vector<std::byte> reply;  // the reply's body after the status
    Event event;
  };
  struct Waiter {
    Rank rank;
    uint64_t id;
  };
  struct Slot {  // a rendezvous being gathered on rank 0
    int32_t count = 0;
    std::map<int32_t, std::pair<Rank, std::vector<std::byte>>> entries;  // index -> (rank, value)
    std::map<int32_t, uint64_t> request_ids;                             // index -> request id
  };

  Result<std::vector<std::byte>> Call_(Op op, std::vector<std::byte> body, int64_t timeout_ms);
  void OnRequest(Rank source, std::span<const std::byte> payload);
  void OnReply(Rank source, std::span<const std::byte> payload);
  void OnPeerFailure(Rank peer);
  void Reply(Rank to, uint64_t id, const Status& status, std::span<const std::byte> body);

  transport::Transport& transport_;
  const Rank rank_;

  // Client side.
  std::mutex calls_mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::shared_ptr<Call>> calls_;

  // Server side (rank 0).
  std::mutex table_mu_;
  std::unordered_map<std::string, std::vector<std::byte>> table_;
  std::unordered_map<std::string, std::vector<Waiter>> waiters_;
  std::unordered_map<std::string, Slot> slots_;
  uint64_t next_epoch_ = 1;
};

}  // namespace prism::runtime
