#pragma once
// Error objects: a failure stored in place of a value, so that every reader re-throws it
// (Ray stores task exceptions the same way). Small, always travels inline.

#include <memory>
#include <string>

#include "prism/common/ids.h"
#include "prism/objstore/buffer_pool.h"
#include "prism/objstore/object_buffer.h"

namespace prism::runtime {

enum class ErrorKind : uint8_t {
  kTask = 1,                         // the task threw -> prism::TaskError
  kWorkerCrashed = 2,                // its rank died -> prism::WorkerCrashedError
  kObjectLost = 3,                   // no copy reachable -> prism::ObjectLostError
  kOwnerDied = 4,                    // owner gone -> prism::OwnerDiedError
  kUnschedulable = 5,                // no rank can run it -> prism::TaskUnschedulableError
  kSystem = 6,                       // anything else -> prism::PrismError
  kActorDied = 7,                    // the actor died -> prism::ActorDiedError
  kObjectStoreFull = 8,              // no room in a store -> prism::ObjectStoreFullError
  kOutOfMemory = 9,                  // failed by the memory monitor -> prism::OutOfMemoryError
  kTaskPlacementGroupRemoved = 10,   // -> prism::TaskPlacementGroupRemovedError
  kActorPlacementGroupRemoved = 11,  // -> prism::ActorPlacementGroupRemovedError
};

std::shared_ptr<objstore::ObjectBuffer> MakeErrorObject(
    const std::shared_ptr<objstore::BufferPool>& pool, ErrorKind kind, const std::string& function,
    Rank rank, const std::string& message, const std::string& exception_type = "");

/// The exception being handled (call it inside a catch block) as a kTask error object: what()
/// and the demangled type of a std::exception, a generic message for anything else.
std::shared_ptr<objstore::ObjectBuffer> CurrentExceptionError(
    const std::shared_ptr<objstore::BufferPool>& pool, const std::string& function, Rank rank);

/// A C++ type name (typeid(T).name()) as people write it.
std::string Demangle(const char* mangled);

/// The message recorded in an error object (what its exception's what() says).
std::string ErrorMessageOf(const objstore::ObjectBuffer& error);

}  // namespace prism::runtime
