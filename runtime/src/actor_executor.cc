#include "actor_executor.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>

#include "bundle_resources.h"
#include "error_object.h"
#include "prism/common/logging.h"
#include "prism/runtime/remote.h"
#include "prism/runtime/serializer.h"
#include "task_context.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("actors");
  return logger;
}

constexpr size_t kDefaultGroup = 0;
// Calls one worker runs back to back on one actor before it goes back to the pool's queue.
constexpr int kMaxBurst = 64;

// The first argument that is an error object, or null.
BufferPtr FailedArgument(const std::vector<BufferPtr>& args) {
  for (const BufferPtr& arg : args) {
    if (internal::FormatOf(*arg) == internal::ObjectFormat::kError) return arg;
  }
  return nullptr;
}

}  // namespace

struct ActorExecutor::Call {
  TaskSpec spec;
  std::vector<BufferPtr> args;
  uint64_t generation = 0;  // the actor's generation when the call started
};

struct ActorExecutor::Group {
  std::string name;
  int32_t max_concurrency = 1;
  int32_t running = 0;
  std::deque<CallPtr> queue;
};

struct ActorExecutor::Caller {
  uint64_t next_seq = 1;              // ordered actors: the next call to admit
  std::map<uint64_t, CallPtr> early;  // ordered actors: calls waiting for a gap to fill
  uint64_t finished = 0;              // calls of this caller that ended (in any way)
};

struct ActorExecutor::Instance {
  enum class State { kAwaitingCreation, kCreating, kAlive, kDead };

  ActorId id;
  std::mutex mu;
  State state = State::kAwaitingCreation;
  std::string cause;  // why it died (kDead), or why it last restarted
  TaskSpec creation;  // the factory call (kept for restarts)
  std::vector<BufferPtr> creation_args;
  const internal::RemoteFunction* factory = nullptr;
  std::shared_ptr<void> object;
  bool ordered = true;
  std::vector<Group> groups;  // [kDefaultGroup] is the default group
  std::unordered_map<std::string, size_t> group_of_method;
  std::unordered_map<Rank, Caller> callers;
  std::vector<CallPtr> before_creation;  // calls that arrived before the creation did
  uint64_t generation = 0;               // bumped when running calls must not deliver their results
  int32_t restarts = 0;
  ResourceSet held;        // kept from the worker pool for the actor's life
  GpuSlots::Holding gpus;  // the GPUs it holds for life (gpus_held)
  bool gpus_held = false;
  std::vector<KillRequest> deferred_kills;
  ErrorKind death_kind = ErrorKind::kActorDied;  // what its failed calls raise
};

// What to do once an actor's lock is released: replies, name release, CPU to give back, the
// instance to destroy (its destructor is user code) and a restart to start.
struct ActorExecutor::Outbox {
  struct Result {
    TaskId id;
    std::string function;
    BufferPtr value;
  };
  void Reply(const TaskSpec& spec, BufferPtr value) {
    replies.push_back(Result{spec.id, spec.function, std::move(value)});
  }
  std::vector<Result> replies;
  std::shared_ptr<void> dropped_object;
  ResourceSet return_resources;
  GpuSlots::Holding return_gpus;
  bool release_name = false;
  std::string scope;
  std::string name;
  bool restart = false;
};

ActorExecutor::ActorExecutor(transport::Transport& transport,
                             std::shared_ptr<objstore::BufferPool> pool, WorkerPool& workers,
                             ReplyFn reply, ReleaseNameFn release_name)
    : transport_(transport),
      pool_(std::move(pool)),
      workers_(workers),
      reply_(std::move(reply)),
      release_name_(std::move(release_name)),
      self_(transport.rank()) {}

ActorExecutor::~ActorExecutor() { Clear(); }

void ActorExecutor::RegisterHandlers() {
  transport_.SetHandler(kKillActor, [this](Rank source, std::span<const std::byte> payload) {
    auto request = DecodeKillRequest(payload);
    if (!request) {
      Log().warn("dropped a kill request from rank {}: {}", source, request.error().ToString());
      return;
    }
    Kill(*request);
  });
}

ActorExecutor::InstancePtr ActorExecutor::FindOrAdd(const ActorId& id) {
  std::lock_guard lock(mu_);
  InstancePtr& slot = actors_[id];
  if (!slot) {
    slot = std::make_shared<Instance>();
    slot->id = id;
  }
  return slot;
}

BufferPtr ActorExecutor::DiedError(const Instance& actor, const TaskSpec& spec,
                                   const std::string& cause) const {
  return MakeErrorObject(pool_, actor.death_kind, spec.function, self_,
                         fmt::format("{} ({}) failed: {} on rank {} died: {}", spec.id.ToString(),
                                     spec.function, actor.id.ToString(), self_, cause));
}

void ActorExecutor::Deliver(TaskSpec spec, std::vector<BufferPtr> args) {
  if (closed_.load()) {
    Log().debug("dropped {} ({}): this rank is shutting down", spec.id.ToString(), spec.function);
    return;
  }
  InstancePtr actor = FindOrAdd(spec.actor);
  Outbox out;
  if (spec.kind == TaskKind::kActorCreation) {
    Create(actor, std::move(spec), std::move(args), out);
  } else {
    auto call = std::make_shared<Call>();
    call->spec = std::move(spec);
    call->args = std::move(args);
    std::lock_guard lock(actor->mu);
    AcceptCallLocked(*actor, std::move(call), out);
    PumpLocked(actor);
  }
  Flush(actor, out);
}

void ActorExecutor::Create(const InstancePtr& actor, TaskSpec spec, std::vector<BufferPtr> args,
                           Outbox& out) {
  std::unique_lock lock(actor->mu);
  if (actor->state != Instance::State::kAwaitingCreation) {
    // Killed before its creation arrived (or a duplicate creation): answer, do not run it.
    std::string cause = actor->state == Instance::State::kDead
                            ? actor->cause
                            : "a second creation of the same actor was ignored";
    out.Reply(spec, DiedError(*actor, spec, cause));
    return;
  }
  const ActorCreationSpec& c = spec.creation;
  actor->ordered = c.max_concurrency == 1 && c.groups.empty();
  actor->groups.push_back(Group{"default", c.max_concurrency, 0, {}});
  for (const auto& g : c.groups) {
    for (const auto& method : g.methods) actor->group_of_method[method] = actor->groups.size();
    actor->groups.push_back(Group{g.name, g.max_concurrency, 0, {}});
  }
  const internal::RemoteFunction* fn = internal::FunctionRegistry::Instance().Find(spec.function);
  std::string failure;
  if (BufferPtr failed = FailedArgument(args)) {
    failure = "an argument of its constructor failed: " + ErrorMessageOf(*failed);
  } else if (fn == nullptr || fn->kind != internal::RemoteKind::kFactory) {
    failure =
        fmt::format("'{}' is not a registered actor factory on rank {}", spec.function, self_);
  } else if (fn->class_tag != c.class_tag) {
    failure = fmt::format("factory '{}' creates another class than the handle's", spec.function);
  }
  actor->creation = std::move(spec);
  actor->creation_args = std::move(args);
  actor->factory = fn;
  actor->state = Instance::State::kCreating;
  // Calls that overtook the creation are admitted now that the actor's groups are known.
  std::vector<CallPtr> early = std::move(actor->before_creation);
  actor->before_creation.clear();
  for (CallPtr& call : early) AcceptCallLocked(*actor, std::move(call), out);
  if (!failure.empty()) {
    out.Reply(actor->creation, DiedError(*actor, actor->creation, failure));
    DieLocked(*actor, failure, /*allow_restart=*/false, /*graceful=*/false, out);
    return;
  }
  ResourceSet demand = actor->creation.creation.held;
  int64_t gpu = BaseUnits(demand, "GPU");
  if (gpu > 0 && gpus_ != nullptr) {
    actor->gpus = gpus_->Acquire(gpu);  // which of the rank's GPUs, for the actor's life
    actor->gpus_held = true;
  }
  lock.unlock();
  StartFactory(actor, demand, /*first=*/true);
}

void ActorExecutor::StartFactory(const InstancePtr& actor, const ResourceSet& demand, bool first) {
  workers_.Enqueue(demand, [this, actor, first] {
    std::shared_ptr<void> object;
    std::string failure;
    bool restarted = false;
    std::vector<BufferPtr> args;  // a copy: a Kill meanwhile may clear the actor's
    GpuSlots::Holding gpus;
    {
      std::lock_guard lock(actor->mu);
      restarted = actor->restarts > 0;
      args = actor->creation_args;
      gpus = actor->gpus;
    }
    {
      ActorScope in_actor(ActorContext{actor->id, restarted});
      TaskScope in_task(actor->creation.id);
      PlacementScope in_group(
          PlacementContext{actor->creation.placement_group, actor->creation.capture_child_tasks});
      std::optional<GpuScope> on_gpus;
      if (gpus_ != nullptr) on_gpus.emplace(*gpus_, gpus);
      try {
        object = actor->factory->create(args);
      } catch (const ActorExitRequest&) {
        failure = "its constructor called prism::ExitActor()";
      } catch (...) {
        failure = "its constructor failed: " +
                  ErrorMessageOf(*CurrentExceptionError(pool_, actor->creation.function, self_));
      }
    }
    // An actor holds its resources for life (the first creation only: restarts keep them).
    if (first && object) workers_.KeepCurrentResources();
    FactoryDone(actor, std::move(object), std::move(failure), first);
  });
}

void ActorExecutor::FactoryDone(const InstancePtr& actor, std::shared_ptr<void> object,
                                std::string failure, bool first) {
  Outbox out;
  {
    std::lock_guard lock(actor->mu);
    if (first && object) actor->held = actor->creation.creation.held;
    if (actor->state != Instance::State::kCreating) {
      // Killed while its constructor ran.
      out.dropped_object = std::move(object);
      if (first) {
        out.Reply(actor->creation, DiedError(*actor, actor->creation, actor->cause));
      }
      std::swap(out.return_resources, actor->held);
    } else if (!failure.empty()) {
      if (first) {
        out.Reply(actor->creation, DiedError(*actor, actor->creation, failure));
      }
      DieLocked(*actor, failure, /*allow_restart=*/false, /*graceful=*/false, out);
    } else {
      actor->object = std::move(object);
      actor->state = Instance::State::kAlive;
      if (first) out.Reply(actor->creation, internal::SerializeNil());
      PumpLocked(actor);
    }
  }
  Flush(actor, out);
}

void ActorExecutor::AcceptCallLocked(Instance& actor, CallPtr call, Outbox& out) {
  if (actor.state == Instance::State::kDead) {
    actor.callers[call->spec.id.owner].finished++;
    out.Reply(call->spec, DiedError(actor, call->spec, actor.cause));
    return;
  }
  if (actor.state == Instance::State::kAwaitingCreation) {
    actor.before_creation.push_back(std::move(call));
    return;
  }
  if (!actor.ordered) {
    AdmitLocked(actor, std::move(call), out);
    return;
  }
  Caller& caller = actor.callers[call->spec.id.owner];
  uint64_t seq = call->spec.caller_seq;
  if (seq < caller.next_seq || caller.early.contains(seq)) {
    Log().warn("dropped {} for {}: call {} of rank {} arrived twice", call->spec.id.ToString(),
               actor.id.ToString(), seq, call->spec.id.owner);
    return;
  }
  if (seq > caller.next_seq) {
    caller.early.emplace(seq, std::move(call));
    return;
  }
  AdmitLocked(actor, std::move(call), out);
  ++caller.next_seq;
  for (auto it = caller.early.begin(); it != caller.early.end() && it->first == caller.next_seq;
       it = caller.early.erase(it)) {
    AdmitLocked(actor, std::move(it->second), out);
    ++caller.next_seq;
  }
}

void ActorExecutor::AdmitLocked(Instance& actor, CallPtr call, Outbox& out) {
  size_t group = kDefaultGroup;
  if (!call->spec.group.empty()) {
    auto it = std::find_if(actor.groups.begin(), actor.groups.end(),
                           [&](const Group& g) { return g.name == call->spec.group; });
    if (it == actor.groups.end()) {
      actor.callers[call->spec.id.owner].finished++;
      out.Reply(call->spec, MakeErrorObject(pool_, ErrorKind::kTask, call->spec.function, self_,
                                            fmt::format("{} has no concurrency group '{}'",
                                                        actor.id.ToString(), call->spec.group),
                                            "prism::PrismError"));
      return;
    }
    group = static_cast<size_t>(it - actor.groups.begin());
  } else if (auto it = actor.group_of_method.empty()
                           ? actor.group_of_method.end()
                           : actor.group_of_method.find(call->spec.function);
             it != actor.group_of_method.end()) {
    group = it->second;
  }
  actor.groups[group].queue.push_back(std::move(call));
}

void ActorExecutor::PumpLocked(const InstancePtr& actor) {
  if (actor->state != Instance::State::kAlive) return;
  for (size_t g = 0; g < actor->groups.size(); ++g) {
    Group& group = actor->groups[g];
    while (group.running < group.max_concurrency && !group.queue.empty()) {
      CallPtr call = std::move(group.queue.front());
      group.queue.pop_front();
      ++group.running;
      call->generation = actor->generation;
      workers_.Enqueue(ResourceSet(),
                       [this, actor, call = std::move(call), g] { Run(actor, call, g); });
    }
  }
}

void ActorExecutor::Run(const InstancePtr& actor, CallPtr call, size_t group) {
  // The thread keeps the group's slot while calls keep coming, up to a burst: one pool round
  // trip (queue, hand-off, maybe a wake-up) per burst instead of per call. Between calls it
  // takes in what arrived itself, as a worker does between tasks.
  for (int burst = 1; call; ++burst) {
    BufferPtr result;
    bool exit = Execute(*actor, *call, &result);
    Outbox out;
    CallPtr next;
    bool keep_slot = false;
    {
      std::lock_guard lock(actor->mu);
      const TaskSpec& spec = call->spec;
      actor->callers[spec.id.owner].finished++;
      if (exit) {
        DieLocked(*actor, "it called prism::ExitActor()", /*allow_restart=*/false,
                  /*graceful=*/true, out);
      }
      if (exit || !result || call->generation != actor->generation) {
        result = DiedError(*actor, spec, actor->cause);
      }
      out.Reply(spec, std::move(result));
      CheckDeferredKillsLocked(*actor, out);
      next = NextInBurstLocked(*actor, group, burst);
      keep_slot = next || (actor->state == Instance::State::kAlive && burst < kMaxBurst);
      if (!keep_slot) {
        --actor->groups[group].running;
        PumpLocked(actor);
      }
    }
    Flush(actor, out);
    if (!next && keep_slot) {
      transport_.TryProgress();
      std::lock_guard lock(actor->mu);
      next = NextInBurstLocked(*actor, group, burst);
      if (!next) {
        --actor->groups[group].running;
        PumpLocked(actor);
      }
    }
    call = std::move(next);
  }
}

ActorExecutor::CallPtr ActorExecutor::NextInBurstLocked(Instance& actor, size_t group, int burst) {
  Group& g = actor.groups[group];
  if (actor.state != Instance::State::kAlive || burst >= kMaxBurst || g.queue.empty()) {
    return nullptr;
  }
  CallPtr next = std::move(g.queue.front());
  g.queue.pop_front();
  next->generation = actor.generation;
  return next;
}

bool ActorExecutor::Execute(Instance& actor, Call& call, BufferPtr* result) {
  const TaskSpec& spec = call.spec;
  std::shared_ptr<void> object;
  bool restarted = false;
  {
    std::lock_guard lock(actor.mu);
    object = actor.object;
    restarted = actor.restarts > 0;
  }
  bool exit = false;
  *result = FailedArgument(call.args);
  if (!*result) {
    const internal::RemoteFunction* fn = internal::FunctionRegistry::Instance().Find(spec.function);
    if (fn == nullptr || fn->kind != internal::RemoteKind::kMethod ||
        fn->class_tag != actor.creation.creation.class_tag) {
      *result = MakeErrorObject(
          pool_, ErrorKind::kTask, spec.function, self_,
          fmt::format("'{}' is not a registered method of the class of {} on rank {}",
                      spec.function, actor.id.ToString(), self_),
          "prism::PrismError");
    } else if (object) {  // else killed since it was admitted: answered by the caller
      ActorScope in_actor(ActorContext{actor.id, restarted});
      TaskScope in_task(spec.id);
      PlacementScope in_group(
          PlacementContext{actor.creation.placement_group, actor.creation.capture_child_tasks});
      std::optional<GpuScope> on_gpus;
      if (gpus_ != nullptr) on_gpus.emplace(*gpus_, actor.gpus);
      try {
        *result = fn->call(object.get(), call.args);
      } catch (const ActorExitRequest&) {
        exit = true;
      } catch (...) {
        *result = CurrentExceptionError(pool_, spec.function, self_);
      }
    }
  }
  call.args.clear();
  object.reset();  // a killed actor's instance may be destroyed here, outside the lock
  return exit;
}

void ActorExecutor::Kill(const KillRequest& request) {
  InstancePtr actor = FindOrAdd(request.actor);
  Outbox out;
  {
    std::lock_guard lock(actor->mu);
    if (request.after_calls) {
      actor->deferred_kills.push_back(request);
      CheckDeferredKillsLocked(*actor, out);
    } else {
      DieLocked(*actor, request.reason, !request.no_restart, /*graceful=*/false, out);
    }
  }
  Flush(actor, out);
}

void ActorExecutor::CheckDeferredKillsLocked(Instance& actor, Outbox& out) {
  for (const KillRequest& k : actor.deferred_kills) {
    if (actor.callers[k.caller].finished >= k.last_seq) {
      std::string reason = k.reason;  // DieLocked clears deferred_kills
      DieLocked(actor, reason, /*allow_restart=*/false, /*graceful=*/true, out);
      return;
    }
  }
}

void ActorExecutor::DieLocked(Instance& actor, const std::string& cause, bool allow_restart,
                              bool graceful, Outbox& out) {
  using State = Instance::State;
  if (actor.state == State::kDead) return;
  int32_t max_restarts = actor.creation.creation.max_restarts;
  // Only a live instance restarts (a constructor cannot be interrupted to start another one).
  bool can_restart = allow_restart && actor.state == State::kAlive &&
                     (max_restarts < 0 || actor.restarts < max_restarts);
  actor.cause = cause;
  if (!graceful) ++actor.generation;  // running calls lose their results
  // Queued calls fail. Calls waiting for an earlier call of their caller stay for the restarted
  // instance, or fail when the actor is gone for good.
  for (Group& g : actor.groups) {
    for (CallPtr& call : g.queue) {
      actor.callers[call->spec.id.owner].finished++;
      out.Reply(call->spec, DiedError(actor, call->spec, cause));
    }
    g.queue.clear();
  }
  if (!can_restart) {
    for (auto& [rank, caller] : actor.callers) {
      for (auto& [seq, call] : caller.early) {
        caller.finished++;
        out.Reply(call->spec, DiedError(actor, call->spec, cause));
      }
      caller.early.clear();
    }
    for (CallPtr& call : actor.before_creation) {
      actor.callers[call->spec.id.owner].finished++;
      out.Reply(call->spec, DiedError(actor, call->spec, cause));
    }
    actor.before_creation.clear();
  }
  out.dropped_object = std::move(actor.object);
  if (can_restart) {
    ++actor.restarts;
    actor.state = State::kCreating;
    out.restart = true;
    Log().info("{} restarts ({} of {}): {}", actor.id.ToString(), actor.restarts,
               max_restarts < 0 ? std::string("unlimited") : std::to_string(max_restarts), cause);
    return;
  }
  actor.state = State::kDead;
  actor.deferred_kills.clear();
  std::swap(out.return_resources, actor.held);
  if (actor.gpus_held) {
    out.return_gpus = actor.gpus;
    actor.gpus_held = false;
  }
  actor.creation_args.clear();  // a tombstone keeps only the cause
  if (!actor.creation.creation.name.empty()) {
    out.release_name = true;
    out.scope = actor.creation.creation.scope;
    out.name = actor.creation.creation.name;
  }
  Log().info("{} died: {}", actor.id.ToString(), cause);
}

void ActorExecutor::Flush(const InstancePtr& actor, Outbox& out) {
  // The instance's destructor is user code that may block: it runs on a worker, never in
  // progress context.
  if (out.dropped_object) {
    workers_.Enqueue(ResourceSet(),
                     [object = std::move(out.dropped_object)]() mutable { object.reset(); });
  }
  workers_.Return(out.return_resources);
  if (gpus_ != nullptr && !out.return_gpus.devices.empty()) gpus_->Release(out.return_gpus);
  if (out.release_name) release_name_(out.scope, out.name, actor->id);
  if (out.restart) StartFactory(actor, ResourceSet(), /*first=*/false);
  for (auto& r : out.replies) reply_(r.id, r.function, std::move(r.value));
}

void ActorExecutor::OnPeerFailure(Rank rank, const std::string& why) {
  std::vector<InstancePtr> owned;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, actor] : actors_) {
      if (id.owner == rank) owned.push_back(actor);
    }
  }
  for (const InstancePtr& actor : owned) {
    Outbox out;
    {
      std::lock_guard lock(actor->mu);
      // A detached actor outlives its owner; an actor whose creation never arrived cannot.
      bool detached =
          actor->state != Instance::State::kAwaitingCreation && actor->creation.creation.detached;
      if (!detached) {
        DieLocked(*actor, fmt::format("its owner, rank {}, died ({})", rank, why),
                  /*allow_restart=*/false, /*graceful=*/false, out);
      }
    }
    Flush(actor, out);
  }
}

void ActorExecutor::KillPlacementGroup(const PlacementGroupId& pg, const std::string& reason) {
  std::vector<InstancePtr> hosted;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, actor] : actors_) hosted.push_back(actor);
  }
  for (const InstancePtr& actor : hosted) {
    Outbox out;
    {
      std::lock_guard lock(actor->mu);
      if (actor->state == Instance::State::kAwaitingCreation ||
          actor->state == Instance::State::kDead || actor->creation.placement_group != pg)
        continue;
      actor->death_kind = ErrorKind::kActorPlacementGroupRemoved;
      DieLocked(*actor, reason, /*allow_restart=*/false, /*graceful=*/false, out);
    }
    Flush(actor, out);
  }
}

void ActorExecutor::Clear() {
  std::unordered_map<ActorId, InstancePtr> actors;
  {
    std::lock_guard lock(mu_);
    actors.swap(actors_);
  }
  for (auto& [id, actor] : actors) {
    std::shared_ptr<void> object;
    {
      std::lock_guard lock(actor->mu);
      object = std::move(actor->object);
      for (Group& g : actor->groups) g.queue.clear();
    }
  }
}

}  // namespace prism::runtime
