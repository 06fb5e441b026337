#pragma once
// ObjectManager: what this rank knows about objects it owns or borrows.
//
// - Owner side: each owned object is pending until its value or location is known; borrowers
//   that ask for its status are answered when it is ready.
// - Borrower side: the first need for an object's status asks its owner (named by the id).
// - Local handles and task pins are counted; an owned object whose count drops to zero is freed
//   here and at the rank holding its primary copy. An owned object whose reference left the
//   rank (escaped) is kept until the job ends: borrower tracking arrives with the distributed
//   reference counting of docs/architecture.md ("not yet").
// - Failures become error objects in place of values: a dead owner -> OwnerDiedError, a dead
//   holder of the only copy -> ObjectLostError.
//
// Thread contract: thread-safe. Callbacks run outside locks, in the caller's thread or in
// progress context; they must not block.

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "error_object.h"
#include "messages.h"
#include "prism/common/futex.h"
#include "prism/objstore/object_store.h"
#include "prism/objstore/object_transfer.h"
#include "prism/transport/transport.h"

namespace prism::runtime {

class ObjectManager {
 public:
  /// Where a ready object is: `location` holds the primary copy; `local` is this rank's copy
  /// (null when it must be pulled).
  struct ReadyInfo {
    Rank location = kNoRank;
    uint64_t size = 0;
    BufferPtr local;
  };
  using ReadyCallback = std::function<void(const ReadyInfo&)>;
  using LocalCallback = std::function<void(BufferPtr)>;  // value or error object, never null

  struct Options {
    int64_t max_inline_bytes = int64_t{100} * 1024;
    int64_t get_spin_ns = 200'000;
  };

  ObjectManager(transport::Transport& transport, objstore::ObjectStore& store,
                objstore::ObjectTransfer& transfer, std::shared_ptr<objstore::BufferPool> pool,
                const Options& options);

  void RegisterHandlers();

  // Owner side.
  /// Stores `value` as a new object of this rank; the id holds one local reference.
  ObjectId Put(BufferPtr value);
  /// Stores `value` as a new object held only by one pin (a large by-value task argument).
  ObjectId PutPinned(BufferPtr value);
  /// A task's return: pending, one local reference.
  void AddPendingReturn(const ObjectId& id);
  /// The value (or error object) arrived; it lives here.
  void SetValue(const ObjectId& id, BufferPtr value);
  /// The value stays on `location` (primary copy of `size` bytes there).
  void SetLocation(const ObjectId& id, Rank location, uint64_t size);

  // References.
  void AddLocalRef(const ObjectId& id);
  void RemoveLocalRef(const ObjectId& id);
  void OnRefSerialized(const ObjectId& id);
  void OnRefDeserialized(const ObjectId& id);
  /// Arguments of a pending task stay alive until Unpin.
  void Pin(const ObjectId& id);
  void Unpin(const ObjectId& id);

  // Values.
  /// Where a ready object is, or nullopt when it is not ready (or not known) here.
  std::optional<ReadyInfo> Lookup(const ObjectId& id);
  /// Calls `done` once the object's status is known here (at once if it already is).
  void WhenReady(const ObjectId& id, ReadyCallback done);
  /// Calls `done` with the value once it is in the local store (pulling it if needed).
  void WhenLocal(const ObjectId& id, LocalCallback done);
  /// Blocking read of several objects; throws GetTimeoutError.
  std::vector<BufferPtr> Get(const std::vector<ObjectId>& ids, int64_t timeout_ms);
  /// Blocking readiness test; see prism::Wait.
  std::vector<bool> Wait(const std::vector<ObjectId>& ids, int num_objects, int64_t timeout_ms);

  /// A rank died: its owned objects, held copies and waiters are settled.
  void OnPeerFailure(Rank rank, const std::string& why);

  struct Stats {
    uint64_t entries = 0;
    uint64_t owned = 0;
    uint64_t freed = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    bool owned = false;
    bool ready = false;
    Rank location = kNoRank;
    uint64_t size = 0;
    int64_t local_refs = 0;
    int64_t pins = 0;
    bool escaped = false;
    bool status_requested = false;
    std::vector<ReadyCallback> waiting;
    std::vector<Rank> remote_waiters;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<ObjectId, Entry> entries;
  };
  // What to do after a lock is released.
  struct Release {
    ObjectId id;
    bool owned = false;
    Rank location = kNoRank;
  };
  struct Readiness {
    std::vector<ReadyCallback> callbacks;
    std::vector<Rank> remote_waiters;
    ReadyInfo info;
  };

  ObjectId StoreNew(BufferPtr value, int64_t local_refs, int64_t pins);
  // An owned object became ready with its primary copy on `location`.
  void Settle(const ObjectId& id, Rank location, uint64_t size);

  static constexpr size_t kShards = 32;
  Shard& ShardOf(const ObjectId& id) { return shards_[std::hash<ObjectId>{}(id) % kShards]; }
  bool Releasable(const Entry& e) const;
  std::optional<Release> MaybeRelease(Shard& shard,
                                      std::unordered_map<ObjectId, Entry>::iterator it);
  void DoRelease(const Release& r);
  Readiness MarkReady(Entry& e, Rank location, uint64_t size);
  void Fire(const ObjectId& id, Readiness readiness);
  void ReplyStatus(Rank to, const ObjectId& id, const ReadyInfo& info);
  void SetError(const ObjectId& id, ErrorKind kind, const std::string& message, bool force);
  void OnStatusRequest(Rank source, std::span<const std::byte> payload);
  void OnStatusReply(Rank source, std::span<const std::byte> payload);
  void OnFreeObjects(Rank source, std::span<const std::byte> payload);

  transport::Transport& transport_;
  objstore::ObjectStore& store_;
  objstore::ObjectTransfer& transfer_;
  std::shared_ptr<objstore::BufferPool> pool_;
  Options options_;
  Rank self_;
  std::atomic<uint64_t> next_put_{1};
  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> freed_{0};
};

}  // namespace prism::runtime
