#include "task_executor.h"

#include <fmt/format.h>

#include <optional>

#include "actor_executor.h"
#include "error_object.h"
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

}  // namespace

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
  int64_t cpu = task->spec.resources.Units("CPU");
  workers_.Enqueue(cpu, [this, task] { Execute(task); });
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
    MemoryMonitor::TaskScope watched(monitor_, spec.id, spec.function);
    std::optional<GpuScope> on_gpus;  // the GPUs the task asked for, published to GetGpuIds
    if (gpus_ != nullptr && spec.resources.Units("GPU") > 0)
      on_gpus.emplace(*gpus_, spec.resources.Units("GPU"));
    try {
      result = fn->invoke(task->args);
    } catch (const OutOfMemoryError& e) {
      result = MakeErrorObject(pool_, ErrorKind::kOutOfMemory, spec.function, self, e.what());
    } catch (...) {
      result = CurrentExceptionError(pool_, spec.function, self);
    }
  }
  task->args.clear();  // let argument copies go before the reply
  Reply(spec.id, spec.function, std::move(result));
}

void TaskExecutor::Reply(const TaskId& id, const std::string& function, BufferPtr result) {
  Rank owner = id.owner;
  TaskResult out;
  out.id = id;
  out.executor_load = workers_.load();
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
