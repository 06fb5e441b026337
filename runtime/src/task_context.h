#pragma once
// The task and actor the current thread is running (for GetRuntimeContext, ExitActor and nested
// submissions).

#include "prism/common/ids.h"

namespace prism::runtime {

/// The running task's id on a worker thread; nil elsewhere.
TaskId CurrentTaskId();

/// Sets the current thread's task for its lifetime.
class TaskScope {
 public:
  explicit TaskScope(TaskId id);
  ~TaskScope();
  TaskScope(const TaskScope&) = delete;
  TaskScope& operator=(const TaskScope&) = delete;

 private:
  TaskId previous_;
};

/// The actor whose method (or factory) the current thread runs.
struct ActorContext {
  ActorId id;
  bool restarted = false;
};

/// Nil id outside actors.
const ActorContext& CurrentActor();

/// Sets the current thread's actor for its lifetime.
class ActorScope {
 public:
  explicit ActorScope(ActorContext actor);
  ~ActorScope();
  ActorScope(const ActorScope&) = delete;
  ActorScope& operator=(const ActorScope&) = delete;

 private:
  ActorContext previous_;
};

/// The placement group of the task or actor the current thread runs, when it captures its child
/// tasks (PG-16): children default to it.
struct PlacementContext {
  PlacementGroupId group;
  bool capture = false;
};

const PlacementContext& CurrentPlacement();

/// Sets the current thread's placement group for its lifetime.
class PlacementScope {
 public:
  explicit PlacementScope(PlacementContext placement);
  ~PlacementScope();
  PlacementScope(const PlacementScope&) = delete;
  PlacementScope& operator=(const PlacementScope&) = delete;

 private:
  PlacementContext previous_;
};

/// Thrown by prism::ExitActor inside a method; caught by the actor's executor. Not a
/// std::exception, so that user code catching std::exception does not swallow it.
struct ActorExitRequest {};

}  // namespace prism::runtime
