#pragma once
// TaskManager: the owner side of tasks (Ray's ownership model).
//
// Submit() makes the return object (pending, owned here), turns large by-value arguments into
// objects, pins reference arguments, and waits for them to be ready (owner-side dependency
// resolution); then it inlines small ready values into the task spec, picks a rank by the task's
// scheduling strategy (ClusterView; a placement group's bundle from its layout) and sends the
// spec straight to that rank's executor. An executor that cannot start it while another rank has
// room sends it back (OnSpillback) and it goes there. Work no rank could ever hold fails with
// TaskUnschedulableError, or waits when `infeasible_wait` is set. Results come back to
// OnTaskDone. If the executing rank dies first, the return becomes a WorkerCrashedError. Actor
// creations and calls take the same path to a fixed rank (the actor's); an upstream failure in
// their arguments travels to the actor, which fails the call in its caller order.
//
// Thread contract: thread-safe. Submit runs on API threads; OnTaskDone and OnPeerFailure in
// progress context.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "bundle_resources.h"
#include "cluster_view.h"
#include "messages.h"
#include "object_manager.h"
#include "prism/runtime/internal/core.h"
#include "task_executor.h"

namespace prism::runtime {

class TaskManager {
 public:
  struct Options {
    int64_t max_inline_bytes = int64_t{100} * 1024;
    bool infeasible_wait = false;  // scheduler_infeasible = "wait"
    std::string job_hex;           // to resolve node ids
  };

  TaskManager(transport::Transport& transport, ObjectManager& objects, ClusterView& view,
              TaskExecutor& executor, std::shared_ptr<objstore::BufferPool> pool,
              const Options& options);

  void RegisterHandlers();
  /// Where placement groups' bundles are (set before any task uses one).
  void SetBundleLayouts(BundleLayoutFn layouts) { layouts_ = std::move(layouts); }

  /// The scheduling a task or actor gets: its own choice, else its parent's captured placement
  /// group (PG-16). Throws PrismError (naming `api`) for a node that does not exist.
  internal::SchedulingOptions Effective(const internal::SchedulingOptions& chosen) const;
  /// The ranks a node affinity names (throws PrismError naming `api` when none).
  std::vector<Rank> ResolveNode(const std::string& node, const char* api) const;

  /// Submits a task; returns its return object's id (one local reference).
  ObjectId Submit(const std::string& function, std::vector<internal::TaskArg> args,
                  const internal::TaskOptions& options);
  /// Submits a prepared spec (an actor creation or call) to run on `target`; spec.id is filled
  /// in when nil. Returns the return object's id (one local reference).
  ObjectId SubmitTo(Rank target, TaskSpec spec, std::vector<internal::TaskArg> args);
  /// A fresh id for a task owned by this rank.
  TaskId NewTaskId() { return TaskId{self_, next_task_.fetch_add(1, std::memory_order_relaxed)}; }

  void OnTaskDone(Rank executor, TaskResult result);
  void OnSpillback(Rank executor, const SpillbackMessage& message);
  void OnPeerFailure(Rank rank, const std::string& why);

  /// Tasks submitted and not finished.
  int64_t in_flight() const;

 private:
  struct Pending {
    TaskSpec spec;                  // args filled at dispatch
    std::vector<ObjectId> refs;     // reference arguments, in order of the ref slots
    std::vector<size_t> ref_slots;  // which args are references
    std::vector<ObjectId> pins;     // objects pinned for this task
    std::atomic<int64_t> unresolved{0};
    Rank target = kNoRank;
    Rank fixed_target = kNoRank;  // actor creations and calls: the actor's rank
    uint64_t epoch = 0;           // ClusterView epoch of the target when sent
    internal::SchedulingOptions scheduling;
    std::vector<Rank> affinity;  // kNodeAffinity: the ranks named
    ResourceSet demand;          // before a placement group's renaming
    Rank preferred = kNoRank;    // where most argument bytes are
  };

  ObjectId Enqueue(std::shared_ptr<Pending> task, std::vector<internal::TaskArg> args);
  void Dispatch(const std::shared_ptr<Pending>& task);
  void Place(const std::shared_ptr<Pending>& task);
  void PlaceInGroup(const std::shared_ptr<Pending>& task, const BundleLayout& layout);
  bool SendTo(const std::shared_ptr<Pending>& task, Rank target);
  void Unschedulable(const std::shared_ptr<Pending>& task, const std::string& message);
  void Fail(const std::shared_ptr<Pending>& task, BufferPtr error);
  void Complete(const std::shared_ptr<Pending>& task, const TaskResult& result, Rank executor);

  transport::Transport& transport_;
  ObjectManager& objects_;
  ClusterView& view_;
  TaskExecutor& executor_;
  std::shared_ptr<objstore::BufferPool> pool_;
  Options options_;
  Rank self_;
  std::atomic<uint64_t> next_task_{1};
  BundleLayoutFn layouts_;
  std::atomic<uint64_t> bundle_rotation_{0};
  mutable std::mutex mu_;
  std::unordered_map<TaskId, std::shared_ptr<Pending>> in_flight_;
  std::vector<std::shared_ptr<Pending>> infeasible_;  // waiting for ever (infeasible_wait)
};

}  // namespace prism::runtime
