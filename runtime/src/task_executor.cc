#include "task_executor.h"

#include <fmt/format.h>

#include <optional>

#include "actor_executor.h"
#include "bundle_resources.h"
#include "error_object.h"
#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/remote.h"
#include "prism/runtime/serializer.h"
#include "resources.h"
#include "task_context.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("executor");
  return logger;
}

thread_local TaskId g_current_task;
thread_local ActorContext g_current_actor;
thread_local PlacementContext g_current_placement;

}  // namespace

const PlacementContext& CurrentPlacement() { return g_current_placement; }
PlacementScope::PlacementScope(PlacementContext placement) : previous_(g_current_placement) {
  g_current_placement = placement;
}
PlacementScope::~PlacementScope() { g_current_placement = previous_; }

TaskId CurrentTaskId() { return g_current_task; }
TaskScope::TaskScope(TaskId id) : previous_(g_current_task) { g_current_task = id; }
TaskScope::~TaskScope() { g_current_task = previous_; }

const ActorContext& CurrentActor() { return g_current_actor; }
ActorScope::ActorScope(ActorContext actor) : previous_(g_current_actor) { g_current_actor = actor; }
ActorScope::~ActorScope() { g_current_actor = previous_; }

struct TaskExecutor::Running {
  TaskSpec spec;
  std::vector<BufferPtr> args;
  std::atomic<int64_t> unresolved{0};
  uint64_t tag = 0;       // its worker-pool tag while queued
  int64_t queued_at = 0;  // NowNanos() when it was queued for resources
};

TaskExecutor::TaskExecutor(transport::Transport& transport, objstore::ObjectStore& store,
                           objstore::ObjectTransfer& transfer, ObjectManager& objects,
                           std::shared_ptr<objstore::BufferPool> pool, WorkerPool& workers,
                           const Options& options)
    : transport_(transport),
      store_(store),
      objects_(objects),
      transfer_(transfer),
      pool_(std::move(pool)),
      workers_(workers),
      options_(options) {}

void TaskExecutor::RegisterHandlers() {
  transport_.SetHandler(kSubmitTask,
                        [this](Rank s, std::span<const std::byte> p) { OnSubmit(s, p); });
}

void TaskExecutor::OnSubmit(Rank source, std::span<const std::byte> payload) {
  auto spec = DecodeTaskSpec(payload, pool_);
  if (!spec) {
    Log().warn("dropped a task from rank {}: {}", source, spec.error().ToString());
    return;
  }
  if (spec->id.owner != source) {
    Log().warn("dropped {} from rank {}: a task must come from its owner", spec->id.ToString(),
               source);
    return;
  }
  Accept(std::move(*spec));
}

void TaskExecutor::Accept(TaskSpec spec) {
  if (closed_.load()) {
    Log().debug("dropped {} ({}): this rank is shutting down", spec.id.ToString(), spec.function);
    return;
  }
  auto task = std::make_shared<Running>();
  task->spec = std::move(spec);
  size_t n = task->spec.args.size();
  task->args.resize(n);
  std::vector<size_t> to_fetch;
  for (size_t i = 0; i < n; ++i) {
    ArgSpec& a = task->spec.args[i];
    if (a.value) {
      task->args[i] = std::move(a.value);
    } else if (BufferPtr local = store_.Find(a.id)) {
      task->args[i] = std::move(local);
    } else {
      to_fetch.push_back(i);
    }
  }
  if (to_fetch.empty()) {
    ArgumentsReady(task);
    return;
  }
  // Count before starting any pull: a pull may complete synchronously.
  task->unresolved.store(static_cast<int64_t>(to_fetch.size()) + 1);
  for (size_t i : to_fetch) {
    const ArgSpec& a = task->spec.args[i];
    transfer_.Pull(
        a.id, a.location, [this, task, i, id = a.id, location = a.location](Result<BufferPtr> r) {
          task->args[i] =
              r ? std::move(*r)
                : MakeErrorObject(
                      pool_, ErrorKind::kObjectLost, task->spec.function, transport_.rank(),
                      fmt::format("argument {} ({}) of {} could not be fetched from rank {}: {}", i,
                                  id.ToString(), task->spec.id.ToString(), location,
                                  r.error().ToString()));
          if (task->unresolved.fetch_sub(1) == 1) ArgumentsReady(task);
        });
  }
  if (task->unresolved.fetch_sub(1) == 1) ArgumentsReady(task);
}

void TaskExecutor::ArgumentsReady(const std::shared_ptr<Running>& task) {
  if (task->spec.kind != TaskKind::kNormal) {
    // Actors take failed arguments in call order themselves.
    actors_->Deliver(std::move(task->spec), std::move(task->args));
    return;
  }
  // An argument that is an error object fails the task without running it (Ray propagates
  // upstream failures the same way).
  for (const BufferPtr& arg : task->args) {
    if (internal::FormatOf(*arg) == internal::ObjectFormat::kError) {
      Reply(task->spec.id, task->spec.function, arg);
      return;
    }
  }
  if (monitor_ != nullptr) {
    // Above the memory threshold the rank admits no new task (memory_monitor.h).
    std::lock_guard lock(parked_mu_);
    if (monitor_->over()) {
      parked_.push_back(task);
      return;
    }
  }
  Admit(task);
}

void TaskExecutor::Admit(const std::shared_ptr<Running>& task) {
  task->tag = next_tag_.fetch_add(1, std::memory_order_relaxed);
  task->queued_at = NowNanos();
  bool removed = false;
  {
    std::lock_guard lock(queued_mu_);
    removed =
        !task->spec.placement_group.IsNil() && removed_groups_.contains(task->spec.placement_group);
    if (!removed) queued_[task->tag] = task;
  }
  if (removed) {
    Reply(task->spec.id, task->spec.function,
          GroupRemovedError(task->spec, "cannot run: its placement group"));
    return;
  }
  workers_.Enqueue(
      task->spec.resources,
      [this, task] {
        {
          std::lock_guard lock(queued_mu_);
          queued_.erase(task->tag);
        }
        Execute(task);
      },
      task->tag);
}

std::shared_ptr<TaskExecutor::Running> TaskExecutor::Withdraw(uint64_t tag) {
  if (!workers_.Withdraw(tag)) return nullptr;  // started meanwhile
  std::lock_guard lock(queued_mu_);
  auto it = queued_.find(tag);
  if (it == queued_.end()) return nullptr;
  std::shared_ptr<Running> task = std::move(it->second);
  queued_.erase(it);
  return task;
}

void TaskExecutor::SpillWaiting() {
  if (view_ == nullptr || max_spillbacks_ == 0) return;
  // The oldest few: a burst that arrived here while other ranks idle leaves in a few rounds.
  for (uint64_t tag : workers_.WaitingTags(64)) {
    std::shared_ptr<Running> candidate;
    {
      std::lock_guard lock(queued_mu_);
      auto it = queued_.find(tag);
      if (it == queued_.end()) continue;
      candidate = it->second;
    }
    const TaskSpec& spec = candidate->spec;
    if (!spec.spillable || spec.spillbacks >= max_spillbacks_) continue;
    if (NowNanos() - candidate->queued_at < spill_min_wait_ns_) break;  // the rest are younger
    ClusterView::Request request;
    request.exclude_self = true;
    ClusterView::Decision decision = view_->Pick(spec.resources, request);
    if (decision.rank == kNoRank) break;  // nobody else has room: the rest stay too
    std::shared_ptr<Running> task = Withdraw(tag);
    if (!task) continue;
    // Counted against that rank here too, so that the next tasks look elsewhere.
    view_->OnSubmitted(decision.rank, spec.resources);
    SpillbackMessage message{spec.id, decision.rank};
    Log().debug("{} ({}) goes back to rank {}: rank {} has room", spec.id.ToString(), spec.function,
                spec.id.owner, decision.rank);
    if (spec.id.owner == transport_.rank()) {
      local_spill_(message);
    } else if (Status s = transport_.Send(spec.id.owner, kTaskSpillback, EncodeSpillback(message));
               !s) {
      Log().info("spillback of {} not delivered: {}", spec.id.ToString(), s.ToString());
    }
  }
}

void TaskExecutor::CancelPlacementGroup(const PlacementGroupId& pg, const std::string& reason) {
  std::vector<uint64_t> tags;
  {
    std::lock_guard lock(queued_mu_);
    removed_groups_.insert(pg);
    for (const auto& [tag, task] : queued_) {
      if (task->spec.placement_group == pg) tags.push_back(tag);
    }
  }
  for (uint64_t tag : tags) {
    std::shared_ptr<Running> task = Withdraw(tag);
    if (!task) continue;  // it started: its result becomes the error (Execute)
    Reply(task->spec.id, task->spec.function, GroupRemovedError(task->spec, "", reason));
  }
}

BufferPtr TaskExecutor::GroupRemovedError(const TaskSpec& spec, const char* what,
                                          const std::string& message) const {
  return MakeErrorObject(
      pool_, ErrorKind::kTaskPlacementGroupRemoved, spec.function, transport_.rank(),
      !message.empty() ? message
                       : fmt::format("{} ({}) {} {} was removed", spec.id.ToString(), spec.function,
                                     what, spec.placement_group.Hex()));
}

void TaskExecutor::ReleaseParked() {
  std::vector<std::shared_ptr<Running>> parked;
  {
    std::lock_guard lock(parked_mu_);
    parked.swap(parked_);
  }
  for (const auto& task : parked) Admit(task);
}

void TaskExecutor::Execute(const std::shared_ptr<Running>& task) {
  const TaskSpec& spec = task->spec;
  Rank self = transport_.rank();
  BufferPtr result;
  const internal::RemoteFunction* fn = internal::FunctionRegistry::Instance().Find(spec.function);
  if (fn == nullptr || fn->kind != internal::RemoteKind::kFunction) {
    result = MakeErrorObject(
        pool_, ErrorKind::kTask, spec.function, self,
        fmt::format("function '{}' is not registered on rank {} (PRISM_REMOTE missing, or a "
                    "different binary?)",
                    spec.function, self),
        "prism::PrismError");
  } else {
    TaskScope scope(spec.id);
    PlacementScope placement(PlacementContext{spec.placement_group, spec.capture_child_tasks});
    MemoryMonitor::TaskScope watched(monitor_, spec.id, spec.function);
    std::optional<GpuScope> on_gpus;  // the GPUs the task asked for, published to GetGpuIds
    if (int64_t gpus = BaseUnits(spec.resources, "GPU"); gpus_ != nullptr && gpus > 0)
      on_gpus.emplace(*gpus_, gpus);
    try {
      result = fn->invoke(task->args);
    } catch (const OutOfMemoryError& e) {
      result = MakeErrorObject(pool_, ErrorKind::kOutOfMemory, spec.function, self, e.what());
    } catch (...) {
      result = CurrentExceptionError(pool_, spec.function, self);
    }
  }
  task->args.clear();  // let argument copies go before the reply
  if (!spec.placement_group.IsNil()) {
    bool removed = false;
    {
      std::lock_guard lock(queued_mu_);
      removed = removed_groups_.contains(spec.placement_group);
    }
    // Ray kills such a task's worker; a thread cannot be killed, so its result is dropped.
    if (removed) result = GroupRemovedError(spec, "ran while its placement group");
  }
  Reply(spec.id, spec.function, std::move(result));
}

void TaskExecutor::Reply(const TaskId& id, const std::string& function, BufferPtr result) {
  Rank owner = id.owner;
  TaskResult out;
  out.id = id;
  out.contained = result->contained_refs();
  if (owner == transport_.rank()) {
    // The owner records the nested refs before this call returns: no hold is needed.
    out.value = std::move(result);
    local_sink_(std::move(out));
    return;
  }
  // Refs nested in the result stay alive here until the owner has recorded them.
  if (!out.contained.empty()) objects_.HoldReturn(id, result->contained_hold());
  ObjectId return_id = ObjectId::ForReturn(id, 1);
  if (static_cast<int64_t>(result->size()) > options_.max_inline_bytes) {
    // Large: the primary copy stays here; readers pull it.
    out.stored_size = result->size();
    Status added = store_.Add(return_id, result, objstore::CopyKind::kPrimary);
    if (!added) {
      out.stored_size = 0;
      out.value = MakeErrorObject(
          pool_, ErrorKind::kObjectStoreFull, function, transport_.rank(),
          fmt::format("the result of {} ({} bytes) did not fit in the object store of rank {}: {}",
                      id.ToString(), result->size(), transport_.rank(), added.error().message));
    }
  } else {
    out.value = std::move(result);
  }
  // The owner may unpin the arguments once it has this reply: first the owners of refs this
  // rank started to borrow (from the arguments) must know it.
  objects_.AfterRegistrations([this, owner, function, out = std::move(out)] {
    Status s = transport_.Send(owner, kTaskDone, EncodeTaskResult(out));
    if (!s) {
      Log().info("result of {} ({}) not delivered: {}", out.id.ToString(), function, s.ToString());
      if (!out.value) store_.Remove(ObjectId::ForReturn(out.id, 1));  // nobody can ask for it
    }
  });
}

}  // namespace prism::runtime
