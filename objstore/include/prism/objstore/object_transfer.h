#pragma once
/// ObjectTransfer: pulls objects from other ranks into the local store, and serves their pulls.
///
/// Pull-based, as in Ray: data stays where it was made until someone asks for it. A large
/// object on the same host is read with a one-sided RMA get of the holder's registered memory
/// (CMA: one copy, no holder CPU); otherwise, and for small objects, the holder sends it as a
/// bulk active message (UCX rendezvous for large bodies). Either way the bytes land directly in
/// a pool buffer of the local store. Concurrent pulls of one object share one transfer.
///
///   transfer.Pull(id, holder_rank, [](Result<std::shared_ptr<ObjectBuffer>> r) { ... });
///
/// Thread contract: thread-safe; callbacks run in progress context (must not block).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "prism/objstore/object_store.h"
#include "prism/transport/message.h"
#include "prism/transport/transport.h"

namespace prism::objstore {

/// Message types of the pull protocol (the object store's range).
enum ObjstoreMessage : transport::MessageType {
  kPullRequest = transport::kObjstoreTypesBegin,
  kPullData,
  kPullRegion,
  kPullDone,
  kPullFailed,
};

struct ObjectTransferOptions {
  size_t rma_threshold_bytes = size_t{64} << 10;  ///< Same-host pulls above this use an RMA get.
  std::string mode = "auto";                      ///< auto | get | am
};

class ObjectTransfer {
 public:
  using PullCallback = std::function<void(Result<std::shared_ptr<ObjectBuffer>>)>;

  ObjectTransfer(transport::Transport& transport, ObjectStore& store,
                 std::shared_ptr<BufferPool> pool, const ObjectTransferOptions& options);

  /// Installs the message and peer-failure handlers; call before the transport starts.
  void RegisterHandlers();

  /// Fetches `id` from `holder` into the local store as a secondary copy.
  void Pull(const ObjectId& id, Rank holder, PullCallback done);

  struct Stats {
    uint64_t pulls = 0;
    uint64_t rma_pulls = 0;
    uint64_t bytes_pulled = 0;
    uint64_t served = 0;
  };
  Stats stats() const;

 private:
  struct PullState {
    ObjectId id;
    Rank holder = kNoRank;
    std::vector<PullCallback> waiters;
  };

  void OnPullRequest(Rank source, std::span<const std::byte> payload);
  void OnPullData(Rank source, std::span<const std::byte> meta, transport::IncomingBulk& body);
  void OnPullRegion(Rank source, std::span<const std::byte> payload);
  void OnPullDone(Rank source, std::span<const std::byte> payload);
  void OnPullFailed(Rank source, std::span<const std::byte> payload);
  void OnPeerFailure(Rank peer);
  void Complete(uint64_t request, Result<std::shared_ptr<ObjectBuffer>> result);
  void SendFailure(Rank to, uint64_t request, ErrorCode code, const std::string& message);

  transport::Transport& transport_;
  ObjectStore& store_;
  std::shared_ptr<BufferPool> pool_;
  ObjectTransferOptions options_;

  mutable std::mutex mu_;
  uint64_t next_request_ = 1;
  std::unordered_map<uint64_t, PullState> pulls_;          // by request id
  std::unordered_map<ObjectId, uint64_t> pull_by_object_;  // dedup
  // Buffers pinned while a peer reads them with RMA: (peer, request) -> buffer.
  std::map<std::pair<Rank, uint64_t>, std::shared_ptr<ObjectBuffer>> leases_;
  Stats stats_;
};

}  // namespace prism::objstore
