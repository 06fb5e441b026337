#include "task_manager.h"

#include <fmt/format.h>

#include <map>

#include "error_object.h"
#include "prism/common/check.h"
#include "prism/common/logging.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/serializer.h"
#include "task_context.h"

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
  transport_.SetHandler(kTaskSpillback, [this](Rank source, std::span<const std::byte> payload) {
    auto message = DecodeSpillback(payload);
    if (!message) {
      Log().warn("dropped a spillback from rank {}: {}", source, message.error().ToString());
      return;
    }
    OnSpillback(source, *message);
  });
  executor_.SetLocalSpillbackSink([this](SpillbackMessage m) { OnSpillback(self_, m); });
}

internal::SchedulingOptions TaskManager::Effective(
    const internal::SchedulingOptions& chosen) const {
  if (chosen.chosen) {
    internal::SchedulingOptions out = chosen;
    // SetPlacementGroup with an empty group: explicitly no group (opts out of capture).
    if (out.kind == internal::SchedulingOptions::kPlacementGroup && out.placement_group.IsNil())
      out.kind = internal::SchedulingOptions::kDefault;
    return out;
  }
  const PlacementContext& parent = CurrentPlacement();
  internal::SchedulingOptions out;
  if (parent.capture && !parent.group.IsNil()) {
    out.kind = internal::SchedulingOptions::kPlacementGroup;
    out.placement_group = parent.group;
    out.bundle_index = -1;
    out.capture_child_tasks = true;
  }
  return out;
}

std::vector<Rank> TaskManager::ResolveNode(const std::string& node, const char* api) const {
  std::string error;
  std::vector<Rank> ranks = view_.ResolveNode(node, options_.job_hex, &error);
  if (ranks.empty())
    throw PrismError(fmt::format("{}: NodeAffinitySchedulingStrategy: {}", api, error));
  return ranks;
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
  task->scheduling = Effective(options.scheduling);
  using Kind = internal::SchedulingOptions::Kind;
  if (task->scheduling.kind == Kind::kNodeAffinity) {
    task->affinity = ResolveNode(task->scheduling.node, "prism::Task");
  }
  if (task->scheduling.kind == Kind::kPlacementGroup) {
    if (task->scheduling.bundle_index < -1) {
      throw PrismError(
          fmt::format("prism::Task({}).SetPlacementGroup: bundle index {} (use -1 "
                      "for any bundle)",
                      function, task->scheduling.bundle_index));
    }
    spec.placement_group = task->scheduling.placement_group;
    spec.bundle_index = task->scheduling.bundle_index;
    spec.capture_child_tasks = task->scheduling.capture_child_tasks;
  }
  spec.spillable =
      task->scheduling.kind == Kind::kDefault || task->scheduling.kind == Kind::kSpread;
  task->demand = spec.resources;
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
  uint64_t most = 0;
  for (const auto& [rank, bytes] : pulled_bytes) {
    if (bytes > most) {
      task->preferred = rank;
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
  Place(task);
}

void TaskManager::Place(const std::shared_ptr<Pending>& task) {
  TaskSpec& spec = task->spec;
  using Kind = internal::SchedulingOptions::Kind;
  if (task->scheduling.kind == Kind::kPlacementGroup) {
    if (!layouts_) {
      Unschedulable(task, "placement groups are not available on this rank");
      return;
    }
    layouts_(spec.placement_group, [this, task](Result<BundleLayout> layout) {
      if (!layout) {
        Fail(task, MakeErrorObject(
                       pool_, ErrorKind::kTaskPlacementGroupRemoved, task->spec.function, self_,
                       fmt::format("{} ({}) cannot run in placement group {}: {}",
                                   task->spec.id.ToString(), task->spec.function,
                                   task->spec.placement_group.Hex(), layout.error().message)));
        return;
      }
      PlaceInGroup(task, *layout);
    });
    return;
  }
  ClusterView::Request request;
  request.preferred = task->preferred;
  if (task->scheduling.kind == Kind::kSpread) request.kind = ClusterView::Request::kSpread;
  if (task->scheduling.kind == Kind::kNodeAffinity) {
    request.kind = ClusterView::Request::kAffinity;
    request.affinity = task->affinity;
    request.soft = task->scheduling.soft;
  }
  while (true) {
    ClusterView::Decision decision = view_.Pick(spec.resources, request);
    if (decision.rank == kNoRank) {
      std::string message =
          task->scheduling.kind == Kind::kNodeAffinity && !task->scheduling.soft
              ? fmt::format("{} ({}) must run on node {}, but {}", spec.id.ToString(),
                            spec.function, task->scheduling.node, decision.why)
          : decision.why.empty()
              ? fmt::format(
                    "no live rank can ever run {} ({}): it needs {} and no single rank "
                    "has all of it",
                    spec.id.ToString(), spec.function, spec.resources.ToString())
              : fmt::format(
                    "no rank of this job has enough '{}' for {} ({}), which needs {}; a "
                    "batch allocation does not grow, so the task cannot run",
                    decision.why, spec.id.ToString(), spec.function, spec.resources.ToString());
      Unschedulable(task, message);
      return;
    }
    if (SendTo(task, decision.rank)) return;
    view_.MarkDead(decision.rank);  // the rank is gone and the task never reached it
  }
}

void TaskManager::PlaceInGroup(const std::shared_ptr<Pending>& task, const BundleLayout& layout) {
  TaskSpec& spec = task->spec;
  std::string error;
  const PlacementGroupId& pg = spec.placement_group;
  int bundle = ChooseBundle(
      layout, task->demand, task->scheduling.bundle_index,
      bundle_rotation_.fetch_add(1, std::memory_order_relaxed),
      [&](Rank rank, int index) {
        return view_.HasRoom(rank, DemandInBundle(task->demand, pg, index));
      },
      &error);
  if (bundle < 0) {
    Unschedulable(task, fmt::format("{} ({}) cannot run in placement group {}: {}",
                                    spec.id.ToString(), spec.function, pg.Hex(), error));
    return;
  }
  // Bundle index -1 takes from the any-bundle names, so the same rank's bundles pool.
  spec.resources = DemandInBundle(task->demand, pg, task->scheduling.bundle_index);
  Rank target = layout.ranks[bundle];
  if (!SendTo(task, target)) {
    Fail(task,
         MakeErrorObject(pool_, ErrorKind::kWorkerCrashed, spec.function, target,
                         fmt::format("{} ({}) cannot run: bundle {} of placement group {} "
                                     "is on rank {}, which died",
                                     spec.id.ToString(), spec.function, bundle, pg.Hex(), target)));
  }
}

void TaskManager::Unschedulable(const std::shared_ptr<Pending>& task, const std::string& message) {
  if (options_.infeasible_wait) {
    Log().warn("{}; it waits (scheduler_infeasible = wait)", message);
    std::lock_guard lock(mu_);
    infeasible_.push_back(task);
    return;
  }
  Fail(task,
       MakeErrorObject(pool_, ErrorKind::kUnschedulable, task->spec.function, self_, message));
}

bool TaskManager::SendTo(const std::shared_ptr<Pending>& task, Rank target) {
  const TaskSpec& spec = task->spec;
  if (!transport_.IsAlive(target)) return false;
  task->target = target;
  {
    std::lock_guard lock(mu_);
    in_flight_[spec.id] = task;
  }
  task->epoch = view_.OnSubmitted(target, spec.resources);
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
  view_.OnFinished(executor, task->spec.resources, task->epoch);
  Complete(task, result, executor);
}

void TaskManager::OnSpillback(Rank executor, const SpillbackMessage& message) {
  std::shared_ptr<Pending> task;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(message.id);
    if (it == in_flight_.end() || it->second->target != executor ||
        message.suggested >= view_.size()) {
      Log().warn("dropped a spillback of {} from rank {}: no such task in flight there",
                 message.id.ToString(), executor);
      return;
    }
    task = std::move(it->second);
    in_flight_.erase(it);
  }
  view_.OnFinished(executor, task->spec.resources, task->epoch);
  ++task->spec.spillbacks;
  // The executor saw room at `suggested`; failing that, choose again.
  if (message.suggested != executor && SendTo(task, message.suggested)) return;
  Place(task);
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
