#pragma once
/// Exceptions thrown by Prism's public API (the seed's error types, under prism::).
///
///   try {
///     int v = *ref.Get();
///   } catch (const prism::TaskError& e) {          // the task threw
///     std::cerr << e.function() << " failed on rank " << e.rank() << ": " << e.what();
///   } catch (const prism::WorkerCrashedError& e) {  // its rank died
///   } catch (const prism::GetTimeoutError& e) {     // Get(ref, timeout_ms) expired
///   }

#include <stdexcept>
#include <string>

namespace prism {

/// Base of every Prism error (Ray's RayError). Also thrown for API misuse, with a message that
/// names the problem (e.g. a call before Init).
class PrismError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A task raised an exception; Get re-throws it at the caller (Ray's RayTaskError).
class TaskError : public PrismError {
 public:
  TaskError(std::string function, int rank, std::string message, std::string exception_type);
  /// Registered name of the function that threw.
  const std::string& function() const { return function_; }
  /// Rank the task ran on.
  int rank() const { return rank_; }
  /// The original exception's what().
  const std::string& message() const { return message_; }
  /// The original exception's type name (demangled where possible).
  const std::string& exception_type() const { return exception_type_; }

 private:
  std::string function_;
  int rank_;
  std::string message_;
  std::string exception_type_;
};

/// The rank running the task died before the task finished (Ray's WorkerCrashedError).
class WorkerCrashedError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// No copy of the object can be reached (Ray's ObjectLostError).
class ObjectLostError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// The object's owner died, taking its metadata with it (Ray's OwnerDiedError).
class OwnerDiedError : public ObjectLostError {
 public:
  using ObjectLostError::ObjectLostError;
};

/// Get(ref, timeout_ms) expired before the object was ready (Ray's GetTimeoutError).
class GetTimeoutError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// No rank of the job can ever satisfy the task's resource request (Ray's TaskUnschedulableError).
class TaskUnschedulableError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// The actor died before or while running the call (Ray's RayActorError / ActorDiedError). The
/// message names the cause: Kill(), ExitActor(), a constructor that threw (with its message),
/// the death of the actor's rank or owner.
class ActorDiedError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// No rank of the job can ever host the actor (Ray's ActorUnschedulableError).
class ActorUnschedulableError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// The object store of a rank has no room for an object even after spilling what it could
/// (Ray's ObjectStoreFullError); the message says what fills the store.
class ObjectStoreFullError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// The rank running the task was above its memory threshold and the memory monitor chose this
/// task to fail (Ray's OutOfMemoryError); retriable tasks are retried first.
class OutOfMemoryError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// No set of the job's ranks can ever hold the placement group's bundles (a batch allocation does
/// not grow); the message names the missing resource.
class PlacementGroupUnschedulableError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// The task's placement group was removed before or while it ran (Ray's
/// TaskPlacementGroupRemoved).
class TaskPlacementGroupRemovedError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// The actor's placement group was removed, which ended the actor (Ray's
/// ActorPlacementGroupRemoved).
class ActorPlacementGroupRemovedError : public ActorDiedError {
 public:
  using ActorDiedError::ActorDiedError;
};

/// A value could not be serialized or deserialized (wrong type, corrupt bytes).
class SerializationError : public PrismError {
 public:
  using PrismError::PrismError;
};

}  // namespace prism
