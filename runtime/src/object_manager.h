#pragma once
// ObjectManager: what this rank knows about objects it owns or borrows (Ray's ownership model,
// docs/architecture.md "Objects").
//
// - Owner side: each owned object is pending until its value or location is known; borrowers
//   that ask for its status are answered when it is ready.
// - Holds: local handles (ObjectRef copies), pins (arguments of pending tasks) and containment
//   (the object's ref is serialized inside another object this rank owns) keep an entry alive.
// - Borrowers: a rank that starts holding an object it does not own registers with the owner
//   (kAddBorrower, acknowledged) and deregisters when its last hold goes (kRemoveBorrower). An
//   owned object is freed, here and where its primary copy lives, when it has no hold and no
//   borrower.
// - Register before release: a ref reaches a rank inside a carrier that keeps it alive (a task's
//   arguments, pinned by the submitter; an object that contains it, held by that object's
//   owner). Every message that can end a carrier's protection (kTaskDone, kRemoveBorrower,
//   kReleaseReturnHold) waits until the registrations this rank started before it are
//   acknowledged (AfterRegistrations), so an owner never sees a carrier go before the new
//   borrower arrives.
// - A task's return that contains refs keeps them alive on the executor (HoldReturn) until the
//   owner has recorded them (kReleaseReturnHold).
// - A ref serialized outside Prism's own serialization (out of band) pins its object until the
//   job ends, as in Ray.
// - Failures become error objects in place of values: a dead owner -> OwnerDiedError, a dead
//   holder of the only copy -> ObjectLostError. A dead borrower's registrations are dropped.
//
// Thread contract: thread-safe. Callbacks run outside locks, in the caller's thread or in
// progress context; they must not block.

#include <array>
#include <deque>
#include <functional>
#include <map>
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
  /// Stores `value` as a new object of this rank; the id holds one local reference. Throws
  /// ObjectStoreFullError when the store has no room even after spilling.
  ObjectId Put(BufferPtr value);
  /// Stores `value` as a new object held only by one pin (a large by-value task argument).
  ObjectId PutPinned(BufferPtr value);
  /// A task's return: pending, one local reference.
  void AddPendingReturn(const ObjectId& id);
  /// The value (or error object) arrived; it lives here. `contained`: refs serialized inside it,
  /// held while it lives.
  void SetValue(const ObjectId& id, BufferPtr value, const std::vector<ObjectId>& contained = {});
  /// The value stays on `location` (primary copy of `size` bytes there).
  void SetLocation(const ObjectId& id, Rank location, uint64_t size,
                   const std::vector<ObjectId>& contained = {});

  // References.
  void AddLocalRef(const ObjectId& id);
  void RemoveLocalRef(const ObjectId& id);
  /// A ref was serialized outside Prism's serialization: its object stays until the job ends.
  void OnRefSerializedOutOfBand(const ObjectId& id);
  void OnRefDeserialized(const ObjectId& id);
  /// `id` is serialized inside an object this rank owns: held until that object is freed.
  void AddContainedRef(const ObjectId& id);
  void RemoveContainedRef(const ObjectId& id);
  /// Runs `fn` (now, or later in progress context) once every borrower registration this rank
  /// sent before the call is acknowledged. `fn` must not block.
  void AfterRegistrations(std::function<void()> fn);
  /// Keeps a returned value's nested refs alive until the owner of task `id` has recorded them.
  void HoldReturn(const TaskId& id, std::shared_ptr<const void> hold);
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
    // Entries by what holds them (one entry may count in several), as in `ray memory`.
    uint64_t local_reference = 0;       // ObjectRef handles on this rank
    uint64_t used_by_pending_task = 0;  // arguments of tasks not finished yet
    uint64_t captured_in_object = 0;    // serialized inside an object this rank owns
    uint64_t borrowed = 0;              // held here, owned elsewhere
    uint64_t with_borrowers = 0;        // owned here, held by other ranks too
    uint64_t pinned_out_of_band = 0;    // serialized outside Prism: kept until the job ends
    uint64_t owned_bytes = 0;           // sizes of the ready owned objects
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
    int64_t contained_by = 0;  // objects owned here that contain this ref
    bool escaped = false;      // serialized out of band
    bool status_requested = false;
    bool registered = false;         // borrower: the owner was told
    std::vector<Rank> borrowers;     // owner: one element per registration
    std::vector<ObjectId> contains;  // owner: refs inside this object, held while it lives
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
    bool registered = false;
    Rank location = kNoRank;
    std::vector<ObjectId> contains;
  };
  enum class Hold { kLocal, kPin, kContained };
  struct Readiness {
    std::vector<ReadyCallback> callbacks;
    std::vector<Rank> remote_waiters;
    ReadyInfo info;
  };

  ObjectId StoreNew(BufferPtr value, int64_t local_refs, int64_t pins);
  // Adds a hold of `kind`; a borrowed entry's first hold registers with the owner.
  void AddHold(const ObjectId& id, Hold kind);
  void RemoveHold(const ObjectId& id, Hold kind);
  // Sends registration `seq` (numbered by AddHold) to the owner of `id`.
  void Register(const ObjectId& id, uint64_t seq);
  void RegistrationDone(uint64_t seq);
  void OnAddBorrower(Rank source, std::span<const std::byte> payload);
  void OnBorrowerAdded(Rank source, std::span<const std::byte> payload);
  void OnRemoveBorrower(Rank source, std::span<const std::byte> payload);
  void OnReleaseReturnHold(Rank source, std::span<const std::byte> payload);
  // An owned object became ready with its primary copy on `location`.
  void Settle(const ObjectId& id, Rank location, uint64_t size,
              const std::vector<ObjectId>& contained);

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

  // Borrower registrations in flight (seq -> owner) and what waits for them (in seq order:
  // an action runs once no registration up to its barrier is outstanding). Lock order: a
  // shard's mu, then reg_mu_.
  std::mutex reg_mu_;
  uint64_t next_reg_seq_ = 0;
  std::map<uint64_t, Rank> registrations_;
  std::deque<std::pair<uint64_t, std::function<void()>>> after_registrations_;
  // Nested refs of returned values, until their owners have recorded them.
  std::mutex holds_mu_;
  std::unordered_map<TaskId, std::shared_ptr<const void>> return_holds_;
};

}  // namespace prism::runtime
