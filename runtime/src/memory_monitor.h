#pragma once
// MemoryMonitor: keeps a rank below its memory limit (Ray's memory monitor, FEATURES.md
// MEM-02..08, adapted to tasks that are threads of one process).
//
// A thread samples the rank's resident memory every `refresh_ms`. Above `threshold` x `limit`:
// - the rank stops admitting new tasks (TaskExecutor parks them until usage is below again);
// - the newest running task is chosen to fail with OutOfMemoryError, one at a time (the next is
//   chosen only after the previous one ended). A thread cannot be killed, so the chosen task
//   stops at its next call into Prism (Put, Get, Wait, Remote), which throws
//   prism::OutOfMemoryError; unwinding frees what it allocated and the error becomes its result.
//   A chosen task that finishes without calling into Prism keeps its result.
// Actor calls are never chosen (Ray prefers retriable tasks; actors keep their state).
//
// Thread contract: thread-safe. `on_relief` runs on the monitor thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "prism/common/ids.h"

namespace prism::runtime {

class MemoryMonitor {
 public:
  struct Options {
    uint64_t limit_bytes = 0;         ///< The rank's share of its node's memory; 0: no monitoring.
    double threshold = 0.95;          ///< Fraction of the limit above which the monitor acts.
    int64_t refresh_ms = 250;         ///< Sampling period; 0: no monitoring.
    std::function<uint64_t()> usage;  ///< The rank's memory use now (resident bytes).
  };

  /// A running task, as the monitor sees it.
  struct Task {
    TaskId id;
    std::string function;
    int64_t started_ns = 0;
    std::atomic<bool> chosen{false};
    std::string reason;  // set before `chosen`
  };

  MemoryMonitor(Options options, std::function<void()> on_relief);
  ~MemoryMonitor();
  MemoryMonitor(const MemoryMonitor&) = delete;
  MemoryMonitor& operator=(const MemoryMonitor&) = delete;

  /// Starts the sampling thread (nothing when disabled).
  void Start();
  void Stop();
  bool enabled() const { return options_.limit_bytes > 0 && options_.refresh_ms > 0; }
  /// Above the threshold: admit no new task.
  bool over() const { return over_.load(std::memory_order_acquire); }
  const Options& options() const { return options_; }

  /// A task starts running on this thread; the scope ends it. Prism calls made by the task
  /// check CheckCurrentTask().
  class TaskScope {
   public:
    TaskScope(MemoryMonitor* monitor, const TaskId& id, const std::string& function);
    ~TaskScope();
    TaskScope(const TaskScope&) = delete;
    TaskScope& operator=(const TaskScope&) = delete;
    /// Whether the monitor chose this task.
    bool chosen() const { return task_ && task_->chosen.load(); }
    const std::string& reason() const { return task_->reason; }

   private:
    MemoryMonitor* monitor_;
    std::shared_ptr<Task> task_;
    std::list<std::shared_ptr<Task>>::iterator position_;
    Task* previous_;
  };

  /// Throws prism::OutOfMemoryError when the task running on this thread was chosen.
  static void CheckCurrentTask();

  struct Stats {
    uint64_t samples = 0;
    uint64_t over_samples = 0;
    uint64_t tasks_failed = 0;
    uint64_t peak_usage_bytes = 0;
  };
  Stats stats() const;

 private:
  void Run();
  void Sample();

  Options options_;
  std::function<void()> on_relief_;
  std::atomic<bool> over_{false};

  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::list<std::shared_ptr<Task>> running_;  // oldest first
  std::shared_ptr<Task> victim_;              // chosen and still running
  Stats stats_;
  std::thread thread_;
};

}  // namespace prism::runtime
