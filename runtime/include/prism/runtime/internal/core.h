#pragma once
/// The non-template entry points that Prism's header templates call. Not a user API: use
/// prism::Task, prism::Put, prism::Get, prism::Wait and ObjectRef.
///
/// Every function here throws prism::PrismError when the runtime is not initialised, except the
/// reference-count hooks, which do nothing then (ObjectRefs may outlive the runtime).

#include <cstdint>
#include <memory>
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
/// A reference is being serialized (it may reach another rank).
void OnRefSerialized(const ObjectId& id);
/// A reference arrived from another rank: counts one local handle and records the borrow.
void OnRefDeserialized(const ObjectId& id);

/// Stores a new object owned by this rank; returns its id holding one local reference.
ObjectId Put(BufferPtr buffer);

/// One argument of a task: a serialized value, or a reference resolved before the task runs.
struct TaskArg {
  BufferPtr value;
  ObjectId ref;
  bool is_ref() const { return !ref.IsNil(); }
};

/// Per-call options of a task.
struct TaskOptions {
  std::vector<std::pair<std::string, double>> resources;  ///< In call order; later wins.
  std::string name;  ///< For logs; the function name by default.
};

/// Submits a task of the registered function `function`; returns the id of its return object,
/// holding one local reference.
ObjectId SubmitTask(const std::string& function, std::vector<TaskArg> args,
                    const TaskOptions& options);

/// The objects' bytes, waiting for them; `timeout_ms` < 0 waits for ever. Throws
/// GetTimeoutError, ObjectLostError, OwnerDiedError.
std::vector<BufferPtr> GetObjects(const std::vector<ObjectId>& ids, int64_t timeout_ms);

/// Which objects are ready, after waiting until `num_objects` are or `timeout_ms` passed.
std::vector<bool> WaitObjects(const std::vector<ObjectId>& ids, int num_objects,
                              int64_t timeout_ms);

/// Throws the exception recorded in an error object (TaskError, WorkerCrashedError, ...).
[[noreturn]] void ThrowStoredError(const ObjectBuffer& buffer);

}  // namespace prism::internal
