#pragma once
// TaskExecutor: runs tasks that owners send to this rank.
//
// A task's object arguments are fetched into the local store first (pulled from the rank that
// holds them); then it waits in the WorkerPool for its CPUs, runs on a worker thread, and its
// result goes back to the owner: inline when small, else kept here as the primary copy with only
// its size reported. An exception thrown by the function becomes an error object (TaskError at
// the caller); an argument that is an error object fails the task without running it. Actor
// creations and calls take the same path up to their arguments, then go to the ActorExecutor.
//
// Thread contract: thread-safe; OnSubmit runs in progress context.

#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cluster_view.h"
#include "gpu_slots.h"
#include "memory_monitor.h"
#include "messages.h"
#include "object_manager.h"
#include "prism/objstore/object_store.h"
#include "prism/objstore/object_transfer.h"
#include "prism/transport/transport.h"
#include "worker_pool.h"

namespace prism::runtime {

class ActorExecutor;

class TaskExecutor {
 public:
  /// Delivers a result to this rank's own owner side (tasks it submitted to itself).
  using LocalResultSink = std::function<void(TaskResult)>;
  /// Delivers a spillback of a task this rank owns to its own owner side.
  using LocalSpillbackSink = std::function<void(SpillbackMessage)>;

  struct Options {
    int64_t max_inline_bytes = int64_t{100} * 1024;
  };

  TaskExecutor(transport::Transport& transport, objstore::ObjectStore& store,
               objstore::ObjectTransfer& transfer, ObjectManager& objects,
               std::shared_ptr<objstore::BufferPool> pool, WorkerPool& workers,
               const Options& options);

  void RegisterHandlers();
  void SetLocalResultSink(LocalResultSink sink) { local_sink_ = std::move(sink); }
  void SetLocalSpillbackSink(LocalSpillbackSink sink) { local_spill_ = std::move(sink); }
  /// Where spilled tasks may go (null: no spillback), and how often a task may be sent back.
  void SetClusterView(ClusterView* view, uint32_t max_spillbacks, int64_t min_wait_ns) {
    view_ = view;
    max_spillbacks_ = max_spillbacks;
    spill_min_wait_ns_ = min_wait_ns;
  }
  /// Gives back to their owners the oldest tasks that have waited here for resources at least
  /// `min_wait_ns` (a task about to get the CPU of one that just replied stays) while another rank
  /// has room for them now (by this rank's view). Called by the ResourceReporter.
  void SpillWaiting();
  void SetActorExecutor(ActorExecutor* actors) { actors_ = actors; }
  /// Tasks park while `monitor` reports memory above its threshold; null: never.
  void SetMemoryMonitor(MemoryMonitor* monitor) { monitor_ = monitor; }
  /// The rank's GPUs, handed to tasks that ask for them (null: none).
  void SetGpuSlots(GpuSlots* gpus) { gpus_ = gpus; }
  /// Admits the tasks parked while memory was above the threshold.
  void ReleaseParked();

  /// Accepts a task (from this rank's owner side, or decoded from a message).
  void Accept(TaskSpec spec);

  /// Sends the result (value or error object) of task `id`, running `function`, to its owner.
  void Reply(const TaskId& id, const std::string& function, BufferPtr result);

  /// Placement group `pg` was removed from this rank: its waiting tasks fail at once with
  /// TaskPlacementGroupRemovedError (`reason`), and so do the results of its running ones.
  void CancelPlacementGroup(const PlacementGroupId& pg, const std::string& reason);

  /// Stops accepting tasks (shutdown): later ones are dropped.
  void Close() { closed_.store(true); }

 private:
  struct Running;
  void OnSubmit(Rank source, std::span<const std::byte> payload);
  void ArgumentsReady(const std::shared_ptr<Running>& task);
  void Admit(const std::shared_ptr<Running>& task);
  void Execute(const std::shared_ptr<Running>& task);
  /// The TaskPlacementGroupRemovedError of `spec`: `message`, or "<task> (<f>) <what> <pg> was
  /// removed".
  BufferPtr GroupRemovedError(const TaskSpec& spec, const char* what,
                              const std::string& message = "") const;
  /// Takes task `tag` out of the queue; null when it already started.
  std::shared_ptr<Running> Withdraw(uint64_t tag);

  transport::Transport& transport_;
  objstore::ObjectStore& store_;
  ObjectManager& objects_;
  objstore::ObjectTransfer& transfer_;
  std::shared_ptr<objstore::BufferPool> pool_;
  WorkerPool& workers_;
  Options options_;
  LocalResultSink local_sink_;
  ActorExecutor* actors_ = nullptr;
  MemoryMonitor* monitor_ = nullptr;
  GpuSlots* gpus_ = nullptr;
  ClusterView* view_ = nullptr;
  uint32_t max_spillbacks_ = 0;
  int64_t spill_min_wait_ns_ = 0;
  LocalSpillbackSink local_spill_;
  std::mutex queued_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<Running>> queued_;  // by pool tag, not started
  std::atomic<uint64_t> next_tag_{1};
  std::unordered_set<PlacementGroupId> removed_groups_;  // guarded by queued_mu_
  std::mutex parked_mu_;
  std::vector<std::shared_ptr<Running>> parked_;  // admitted once memory is below the threshold
  std::atomic<bool> closed_{false};
};

}  // namespace prism::runtime
