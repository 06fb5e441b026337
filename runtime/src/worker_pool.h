#pragma once
// WorkerPool: the threads of a scheduler rank that run tasks, with CPU accounting.
//
// Work is dispatched in FIFO order while its CPU demand fits what is free; work that needs no CPU
// (actor method calls) has its own FIFO and never waits behind work that does. Such work gets an
// extra thread only when it has waited a millisecond with every thread busy (a monitor thread
// checks), so that calls blocked in user code cannot starve the others. A worker that blocks
// in Get lends its CPU back (BlockedScope), so nested tasks cannot deadlock the pool; the pool
// starts another thread when dispatchable work has no idle thread to run it (up to a limit).
// Idle workers poll the transport for a short while (so that a task arriving on a busy rank
// needs no thread wake-up) and then sleep.
//
// Pinning (docs/placement.md): the i-th thread started runs on thread_cpus[i] (one core each,
// from RankBinding::WorkerCpus); threads beyond those (started for lending or starved actor
// calls) run on spare_cpus (the rank's whole set). Empty lists: no pinning.
//
// Thread contract: thread-safe.

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "prism/common/futex.h"
#include "prism/transport/transport.h"

namespace prism::runtime {

class WorkerPool {
 public:
  using Work = std::function<void()>;

  struct Options {
    int64_t cpu_units = 0;                      // capacity, in ResourceSet units
    int64_t max_threads = 1024;                 // including threads started for lending
    int64_t spin_ns = 100'000;                  // polling before an idle worker sleeps
    std::vector<std::vector<int>> thread_cpus;  // PUs of the first threads, one list each
    std::vector<int> spare_cpus;                // PUs of any later thread
  };

  WorkerPool(transport::Transport& transport, const Options& options);
  ~WorkerPool();

  void Start();
  /// Stops taking work and joins the threads (running work finishes first).
  void Stop();

  /// Queues `work` that needs `cpu_units` of CPU while it runs.
  void Enqueue(int64_t cpu_units, Work work);

  /// Called by running work: the CPU it was given stays taken after it returns (an actor holds
  /// its CPU for life) until ReturnUnits.
  void KeepCurrentUnits();
  /// Gives back CPU kept by KeepCurrentUnits.
  void ReturnUnits(int64_t cpu_units);

  /// Queued plus running work items.
  int64_t load() const { return load_.load(std::memory_order_relaxed); }
  int64_t threads() const;

  /// While alive, the calling worker's CPU is lent to other work (no-op off a worker thread).
  class BlockedScope {
   public:
    BlockedScope();
    ~BlockedScope();
    BlockedScope(const BlockedScope&) = delete;
    BlockedScope& operator=(const BlockedScope&) = delete;

   private:
    WorkerPool* pool_ = nullptr;
    int64_t units_ = 0;
  };

 private:
  struct Item {
    int64_t cpu_units;
    Work work;
  };
  void WorkerLoop(const std::stop_token& stop, const std::vector<int>& cpus);
  void MonitorLoop(const std::stop_token& stop);
  bool TakeWork(Item* item);
  void MaybeAddThreadLocked();
  void AddThreadLocked();
  void NotifyWork();
  bool Dispatchable() const { return dispatchable_.load(std::memory_order_seq_cst); }
  void UpdateDispatchableLocked();

  transport::Transport& transport_;
  Options options_;
  mutable std::mutex mu_;
  std::deque<Item> queue_;      // needs CPU
  std::deque<Item> unmetered_;  // needs none
  int64_t available_units_;
  int64_t idle_threads_ = 0;
  bool stopping_ = false;
  std::vector<std::jthread> threads_;
  std::atomic<bool> dispatchable_{false};
  std::atomic<int64_t> load_{0};
  std::atomic<int> spinners_{0};
  Event work_event_;
  // Starts threads for CPU-free work that no thread takes (blocked actor calls).
  std::jthread monitor_;
  Event monitor_event_;
  std::atomic<bool> monitor_asleep_{false};
  uint64_t unmetered_taken_ = 0;  // guarded by mu_
};

}  // namespace prism::runtime
