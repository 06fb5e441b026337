#pragma once
// The task the current thread is running (for GetRuntimeContext and nested submissions).

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

}  // namespace prism::runtime
