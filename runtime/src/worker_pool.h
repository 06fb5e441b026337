#pragma once
// WorkerPool: the threads of a scheduler rank that run tasks, and the rank's resource ledger.
//
// The ledger holds the rank's total and available resources (CPU, GPU, memory, custom, and the
// resources of placement-group bundles committed here). Work waits in a FIFO per resource shape
// (Ray's scheduling classes) and starts when its whole demand fits what is available: the oldest
// work whose demand fits goes first, so a large request does not block smaller ones of another
// shape. Work that needs no resources (actor method calls) has its own FIFO and never waits
// behind work that does. The sum of what running work holds never exceeds the total (RES-10),
// except while a task blocked in Get has lent its CPU and takes it back. Such work gets an
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
#include "resources.h"

namespace prism::runtime {

class WorkerPool {
 public:
  using Work = std::function<void()>;

  struct Options {
    ResourceSet capacity;                       // the rank's resources; threads follow its CPU
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

  /// Queues `work` that needs `demand` while it runs. A nonzero `tag` lets Withdraw take it
  /// back while it waits.
  void Enqueue(const ResourceSet& demand, Work work, uint64_t tag = 0);
  /// Removes the waiting work queued with `tag`; false when it already started (or is unknown).
  bool Withdraw(uint64_t tag);
  /// Tags of work waiting for resources (not started), oldest first, at most `max`.
  std::vector<uint64_t> WaitingTags(size_t max) const;
  /// Work items waiting for resources (tagged or not).
  int64_t waiting() const;

  /// Called by running work: what it was given stays taken after it returns (an actor holds its
  /// resources for life) until Return.
  void KeepCurrentResources();
  /// Gives back resources kept by KeepCurrentResources (or reserved by TryReserve).
  void Return(const ResourceSet& resources);

  /// Placement-group bundles (bundle_resources.h). TryReserve takes `amount` from what is
  /// available when it fits now (Prepare); Return gives it back. AddCapacity adds resources
  /// (the group's names, at Commit) to the total and to what is available; RemoveCapacity takes
  /// them away again (what running work still holds of them is dropped when it returns).
  bool TryReserve(const ResourceSet& amount);
  void AddCapacity(const ResourceSet& extra);
  void RemoveCapacity(const ResourceSet& extra);

  ResourceSet Total() const;
  ResourceSet Available() const;
  /// Total(), Available() and waiting() read together, under one lock.
  void Snapshot(ResourceSet* total, ResourceSet* available, int64_t* waiting) const;
  /// Changes with every change of Available() (for resource reports).
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }

  /// Queued plus running work items.
  int64_t load() const { return load_.load(std::memory_order_relaxed); }
  int64_t threads() const;

  /// While alive, the calling worker's CPU (and the CPU of its placement-group bundle) is lent to
  /// other work (no-op off a worker thread).
  class BlockedScope {
   public:
    BlockedScope();
    ~BlockedScope();
    BlockedScope(const BlockedScope&) = delete;
    BlockedScope& operator=(const BlockedScope&) = delete;

   private:
    WorkerPool* pool_ = nullptr;
    ResourceSet lent_;
  };

 private:
  struct Item {
    ResourceSet demand;
    Work work;
    uint64_t tag = 0;
    uint64_t seq = 0;  // enqueue order
  };
  // Waiting work of one resource shape, in FIFO order.
  struct ShapeQueue {
    ResourceSet demand;
    std::deque<Item> items;
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
  // The oldest waiting item whose demand fits, or null.
  ShapeQueue* FittingLocked();
  bool KnownLocked(const std::string& name) const;  // a resource of the total
  void AcquireLocked(const ResourceSet& demand);
  void ReleaseLocked(const ResourceSet& demand);

  std::vector<ShapeQueue> shapes_;  // needs resources; few shapes, so a vector
  std::deque<Item> unmetered_;      // needs none
  int64_t waiting_ = 0;             // items in shapes_
  uint64_t next_seq_ = 0;
  ResourceSet total_;
  ResourceSet available_;
  std::atomic<uint64_t> version_{0};
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
