#pragma once
/// The non-template entry points that Prism's header templates call. Not a user API: use
/// prism::Task, prism::Actor, prism::Put, prism::Get, prism::Wait, ObjectRef and ActorHandle.
///
/// Every function here throws prism::PrismError when the runtime is not initialised, except the
/// reference-count hooks, which do nothing then (ObjectRefs may outlive the runtime).

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "prism/common/ids.h"
#include "prism/objstore/object_buffer.h"

namespace prism::internal {

using objstore::ObjectBuffer;
using BufferPtr = std::shared_ptr<ObjectBuffer>;

/// Throws PrismError naming `api` when Prism is not initialised.
void CheckInitialized(const char* api);

/// A buffer for a new object's bytes, from this rank's pool.
BufferPtr AllocateObject(size_t size, std::span<const std::byte> metadata);

/// Local handle counting: every ObjectRef copy holds one.
void AddLocalRef(const ObjectId& id);
void RemoveLocalRef(const ObjectId& id);
/// A reference is being serialized (it may reach another rank). Inside a RefCollector it is
/// recorded as a ref contained in the value being made; outside one (a ref serialized by the
/// program itself) the object stays pinned until the job ends, as in Ray.
void OnRefSerialized(const ObjectId& id);
/// A reference arrived from another rank: counts one local handle and records the borrow.
void OnRefDeserialized(const ObjectId& id);

/// Collects the ObjectRefs serialized on this thread while it lives: the refs nested in the value
/// being serialized. Each collected ref holds a local reference until the buffer it is attached
/// to is gone, so the objects outlive the handles they were copied from until their new holder
/// (the owner of the enclosing object, or the task that receives it) has recorded them.
class RefCollector {
 public:
  RefCollector();
  ~RefCollector();
  RefCollector(const RefCollector&) = delete;
  RefCollector& operator=(const RefCollector&) = delete;

  /// The collector of this thread, or null.
  static RefCollector* Current();
  /// Records `id` and takes a local reference on it.
  void Add(const ObjectId& id);
  /// Hands what was collected to `buffer` (ObjectBuffer::SetContainedRefs).
  void AttachTo(ObjectBuffer& buffer);

 private:
  std::vector<ObjectId> ids_;
  RefCollector* previous_;
};

/// Stores a new object owned by this rank; returns its id holding one local reference.
ObjectId Put(BufferPtr buffer);

/// One argument of a task: a serialized value, or a reference resolved before the task runs.
struct TaskArg {
  BufferPtr value;
  ObjectId ref;
  bool is_ref() const { return !ref.IsNil(); }
};

/// Where a task or actor may run (prism::SetSchedulingStrategy, SetPlacementGroup).
struct SchedulingOptions {
  enum Kind : uint8_t {
    kDefault = 0,         ///< hybrid pack/spread with data locality
    kSpread = 1,          ///< round-robin over the ranks that fit
    kNodeAffinity = 2,    ///< `node` (a node id, "rank:<k>" or "host:<name>"), hard or soft
    kPlacementGroup = 3,  ///< bundle `bundle_index` (-1: any) of `placement_group`
  };
  Kind kind = kDefault;
  std::string node;
  bool soft = false;
  PlacementGroupId placement_group;
  int32_t bundle_index = -1;
  bool capture_child_tasks = false;
  /// Set by SetPlacementGroup / SetSchedulingStrategy: the caller chose, so a parent's captured
  /// placement group does not apply (an empty group then means "no group").
  bool chosen = false;
};

/// Per-call options of a task.
struct TaskOptions {
  std::vector<std::pair<std::string, double>> resources;  ///< In call order; later wins.
  std::string name;  ///< For logs; the function name by default.
  SchedulingOptions scheduling;
};

/// Submits a task of the registered function `function`; returns the id of its return object,
/// holding one local reference.
ObjectId SubmitTask(const std::string& function, std::vector<TaskArg> args,
                    const TaskOptions& options);

/// What an ActorHandle carries: the actor and the rank that hosts it.
struct ActorRef {
  ActorId id;
  Rank rank = kNoRank;
  bool IsNil() const { return id.IsNil(); }
};

/// A named thread pool of an actor and the methods (registered names) that run in it.
struct ConcurrencyGroupSpec {
  std::string name;
  int32_t max_concurrency = 1;
  std::vector<std::string> methods;
};

/// Options of an actor's creation (prism::Actor(...).Set...).
struct ActorOptions {
  std::vector<std::pair<std::string, double>> resources;  ///< In call order; later wins.
  std::string name;                                       ///< Empty: anonymous.
  std::string name_space;    ///< The name's namespace; empty: the job's.
  bool global_name = false;  ///< SetGlobalName: visible from every namespace.
  int32_t max_concurrency = 1;
  int32_t max_restarts = 0;
  bool detached = false;
  bool get_if_exists = false;
  std::vector<ConcurrencyGroupSpec> groups;
  SchedulingOptions scheduling;
};

/// Per-call options of an actor method call.
struct ActorCallOptions {
  std::string name;               ///< For logs; the method's name by default.
  std::string concurrency_group;  ///< Empty: the group the method was assigned to.
};

/// Creates an actor with the registered factory `factory` of class `class_tag`; returns its
/// handle at once (the constructor runs asynchronously). Throws PrismError for a taken name,
/// ActorUnschedulableError when no rank can host it.
ActorRef CreateActor(const std::string& factory, const std::string& class_tag,
                     std::vector<TaskArg> args, const ActorOptions& options);

/// Submits a call of the registered method `method` on `actor`; returns the id of its return
/// object, holding one local reference.
ObjectId SubmitActorTask(const ActorRef& actor, const std::string& method,
                         std::vector<TaskArg> args, const ActorCallOptions& options);

/// Ends `actor` at once (see ActorHandle::Kill).
void KillActor(const ActorRef& actor, bool no_restart);

/// The live actor named `name` in scope `name_space` (empty: the job's namespace; `global`:
/// the global scope), or nullopt. Throws PrismError when its class is not `class_tag`.
std::optional<ActorRef> LookupActor(const std::string& name, const std::string& name_space,
                                    bool global, const std::string& class_tag);

/// Handle counting: every ActorHandle copy holds one (no-ops when Prism is not initialised).
void AddActorHandleRef(const ActorId& id);
void RemoveActorHandleRef(const ActorId& id);
/// A handle is being serialized: it may reach another rank.
void OnActorHandleSerialized(const ActorId& id);

/// The objects' bytes, waiting for them; `timeout_ms` < 0 waits for ever. Throws
/// GetTimeoutError, ObjectLostError, OwnerDiedError.
std::vector<BufferPtr> GetObjects(const std::vector<ObjectId>& ids, int64_t timeout_ms);

/// Which objects are ready, after waiting until `num_objects` are or `timeout_ms` passed.
std::vector<bool> WaitObjects(const std::vector<ObjectId>& ids, int num_objects,
                              int64_t timeout_ms);

/// Throws the exception recorded in an error object (TaskError, WorkerCrashedError, ...).
[[noreturn]] void ThrowStoredError(const ObjectBuffer& buffer);

}  // namespace prism::internal
