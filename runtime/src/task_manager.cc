#include "task_manager.h"

#include <fmt/format.h>

#include <map>

#include "error_object.h"
#include "prism/common/check.h"
#include "prism/common/logging.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/serializer.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("tasks");
  return logger;
}

}  // namespace

TaskManager::TaskManager(transport::Transport& transport, ObjectManager& objects, ClusterView& view,
                         TaskExecutor& executor, std::shared_ptr<objstore::BufferPool> pool,
                         const Options& options)
    : transport_(transport),
      objects_(objects),
      view_(view),
      executor_(executor),
      pool_(std::move(pool)),
      options_(options),
      self_(transport.rank()) {}

void TaskManager::RegisterHandlers() {
  transport_.SetHandler(kTaskDone, [this](Rank source, std::span<const std::byte> payload) {
    auto result = DecodeTaskResult(payload, pool_);
    if (!result) {
      Log().warn("dropped a task result from rank {}: {}", source, result.error().ToString());
      return;
    }
    OnTaskDone(source, std::move(*result));
  });
  executor_.SetLocalResultSink([this](TaskResult result) { OnTaskDone(self_, std::move(result)); });
}

ObjectId TaskManager::Submit(const std::string& function, std::vector<internal::TaskArg> args,
                             const internal::TaskOptions& options) {
  auto task = std::make_shared<Pending>();
  TaskSpec& spec = task->spec;
  spec.id = NewTaskId();
  spec.function = function;
  spec.name = options.name;
  // A task needs 1 CPU unless told otherwise (the seed's default).
  if (Status s = spec.resources.Set("CPU", 1.0); !s) throw PrismError(s.error().message);
  for (const auto& [name, amount] : options.resources) {
    if (Status s = spec.resources.Set(name, amount); !s) {
      throw PrismError(fmt::format("prism::Task({}).SetResource: {}", function, s.error().message));
    }
  }
  return Enqueue(std::move(task), std::move(args));
}

ObjectId TaskManager::SubmitTo(Rank target, TaskSpec spec, std::vector<internal::TaskArg> args) {
  auto task = std::make_shared<Pending>();
  task->spec = std::move(spec);
  if (task->spec.id.IsNil()) task->spec.id = NewTaskId();
  task->fixed_target = target;
  return Enqueue(std::move(task), std::move(args));
}

ObjectId TaskManager::Enqueue(std::shared_ptr<Pending> task, std::vector<internal::TaskArg> args) {
  TaskSpec& spec = task->spec;
  ObjectId return_id = ObjectId::ForReturn(spec.id, 1);
  objects_.AddPendingReturn(return_id);

  spec.args.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    internal::TaskArg& a = args[i];
    if (a.is_ref()) {
      objects_.Pin(a.ref);
      task->pins.push_back(a.ref);
      task->refs.push_back(a.ref);
      task->ref_slots.push_back(i);
    } else if (static_cast<int64_t>(a.value->size()) > options_.max_inline_bytes) {
      // A large value goes into the store once; executors pull it (Ray's implicit put).
      ObjectId id = objects_.PutPinned(std::move(a.value));
      task->pins.push_back(id);
      task->refs.push_back(id);
      task->ref_slots.push_back(i);
    } else {
      spec.args[i].value = std::move(a.value);
    }
  }

  // Dispatch once every reference argument is ready; the +1 keeps a synchronous completion from
  // dispatching before all callbacks are registered.
  task->unresolved.store(static_cast<int64_t>(task->refs.size()) + 1);
  for (const ObjectId& ref : task->refs) {
    objects_.WhenReady(ref, [this, task](const ObjectManager::ReadyInfo&) {
      if (task->unresolved.fetch_sub(1) == 1) Dispatch(task);
    });
  }
  if (task->unresolved.fetch_sub(1) == 1) Dispatch(task);
  // A submitting thread takes in what has arrived (results of earlier tasks) itself: a driver
  // that submits in a loop then keeps the progress thread off its cores.
  transport_.TryProgress();
  return return_id;
}

void TaskManager::Dispatch(const std::shared_ptr<Pending>& task) {
  TaskSpec& spec = task->spec;
  // Resolve reference arguments: inline small local values, otherwise name where to pull from.
  // The rank holding most bytes of the arguments to pull is preferred (data locality).
  std::map<Rank, uint64_t> pulled_bytes;
  for (size_t k = 0; k < task->refs.size(); ++k) {
    const ObjectId& id = task->refs[k];
    ArgSpec& slot = spec.args[task->ref_slots[k]];
    // Every reference argument is ready (and pinned) by now.
    std::optional<ObjectManager::ReadyInfo> found = objects_.Lookup(id);
    PRISM_CHECK(found.has_value(), "{}: argument {} is not ready at dispatch", spec.id.ToString(),
                id.ToString());
    const ObjectManager::ReadyInfo& info = *found;
    if (info.local && internal::FormatOf(*info.local) == internal::ObjectFormat::kError) {
      if (task->fixed_target == kNoRank) {
        Fail(task, info.local);  // an upstream failure fails this task too
        return;
      }
      slot.value = info.local;  // the actor fails the call in its turn
      continue;
    }
    if (info.local && static_cast<int64_t>(info.local->size()) <= options_.max_inline_bytes) {
      slot.value = info.local;
    } else {
      slot.id = id;
      slot.location = info.location;
      pulled_bytes[info.location] += info.size;
    }
  }
  Rank preferred = kNoRank;
  uint64_t most = 0;
  for (const auto& [rank, bytes] : pulled_bytes) {
    if (bytes > most) {
      preferred = rank;
      most = bytes;
    }
  }

  if (task->fixed_target != kNoRank) {
    Rank target = task->fixed_target;
    if (!SendTo(task, target)) {
      Fail(task, MakeErrorObject(pool_, ErrorKind::kActorDied, spec.function, target,
                                 fmt::format("{} ({}) cannot run: {} lived on rank {}, which died",
                                             spec.id.ToString(), spec.function,
                                             spec.actor.ToString(), target)));
    }
    return;
  }
  std::string missing;
  for (Rank target = view_.Pick(spec.resources, &missing, false, preferred); target != kNoRank;
       target = view_.Pick(spec.resources, &missing, false, preferred)) {
    if (SendTo(task, target)) return;
    view_.MarkDead(target);  // the rank is gone and the task never reached it: try another one
  }
  std::string message =
      missing.empty() ? fmt::format("no live rank can run {} ({}): it needs {}", spec.id.ToString(),
                                    spec.function, spec.resources.ToString())
                      : fmt::format(
                            "no rank of this job has enough '{}' for {} ({}), which needs {}; a "
                            "batch allocation "
                            "does not grow, so the task cannot run",
                            missing, spec.id.ToString(), spec.function, spec.resources.ToString());
  Fail(task, MakeErrorObject(pool_, ErrorKind::kUnschedulable, spec.function, self_, message));
}

bool TaskManager::SendTo(const std::shared_ptr<Pending>& task, Rank target) {
  const TaskSpec& spec = task->spec;
  if (!transport_.IsAlive(target)) return false;
  task->target = target;
  {
    std::lock_guard lock(mu_);
    in_flight_[spec.id] = task;
  }
  view_.OnSubmitted(target);
  if (target == self_) {
    executor_.Accept(spec);
    return true;
  }
  if (transport_.Send(target, kSubmitTask, EncodeTaskSpec(spec))) return true;
  std::lock_guard lock(mu_);
  in_flight_.erase(spec.id);
  return false;
}

void TaskManager::Fail(const std::shared_ptr<Pending>& task, BufferPtr error) {
  TaskResult result;
  result.id = task->spec.id;
  result.value = std::move(error);
  Complete(task, result, kNoRank);
}

void TaskManager::Complete(const std::shared_ptr<Pending>& task, const TaskResult& result,
                           Rank executor) {
  ObjectId return_id = ObjectId::ForReturn(task->spec.id, 1);
  if (result.value) {
    objects_.SetValue(return_id, result.value, result.contained);
  } else {
    objects_.SetLocation(return_id, executor, result.stored_size, result.contained);
  }
  if (!result.contained.empty() && executor != self_ && executor != kNoRank) {
    // The executor may let the nested refs go once this rank's claims on them are registered.
    objects_.AfterRegistrations([this, executor, id = task->spec.id] {
      (void)transport_.Send(executor, kReleaseReturnHold, EncodeTaskIdMessage(id));
    });
  }
  for (const ObjectId& pinned : task->pins) objects_.Unpin(pinned);
}

void TaskManager::OnTaskDone(Rank executor, TaskResult result) {
  std::shared_ptr<Pending> task;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(result.id);
    if (it == in_flight_.end() || it->second->target != executor) {
      Log().warn("dropped a result for {} from rank {}: no such task in flight there",
                 result.id.ToString(), executor);
      return;
    }
    task = std::move(it->second);
    in_flight_.erase(it);
  }
  view_.OnFinished(executor, result.executor_load);
  Complete(task, result, executor);
}

void TaskManager::OnPeerFailure(Rank rank, const std::string& why) {
  view_.MarkDead(rank);
  std::vector<std::shared_ptr<Pending>> lost;
  {
    std::lock_guard lock(mu_);
    for (auto it = in_flight_.begin(); it != in_flight_.end();) {
      if (it->second->target == rank) {
        lost.push_back(std::move(it->second));
        it = in_flight_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const auto& task : lost) {
    const TaskSpec& spec = task->spec;
    if (spec.kind == TaskKind::kNormal) {
      Fail(task, MakeErrorObject(pool_, ErrorKind::kWorkerCrashed, spec.function, rank,
                                 fmt::format("{} ({}) was running on rank {}, which died: {}",
                                             spec.id.ToString(), spec.function, rank, why)));
    } else {
      Fail(task, MakeErrorObject(pool_, ErrorKind::kActorDied, spec.function, rank,
                                 fmt::format("{} ({}) was sent to {} on rank {}, which died: {}",
                                             spec.id.ToString(), spec.function,
                                             spec.actor.ToString(), rank, why)));
    }
  }
  if (!lost.empty()) Log().error("{} tasks failed because rank {} died", lost.size(), rank);
}

int64_t TaskManager::in_flight() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(in_flight_.size());
}

}  // namespace prism::runtime
