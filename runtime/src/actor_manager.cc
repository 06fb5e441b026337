#include "actor_manager.h"

#include <fmt/format.h>

#include <condition_variable>
#include <set>

#include "error_object.h"
#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/runtime/errors.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("actors");
  return logger;
}

std::string ClassName(const std::string& tag) { return Demangle(tag.c_str()); }

[[noreturn]] void Invalid(const std::string& factory, const std::string& message) {
  throw PrismError(fmt::format("prism::Actor({}): {}", factory, message));
}

void Validate(const std::string& factory, const internal::ActorOptions& o) {
  if (o.max_concurrency < 1) {
    Invalid(factory, fmt::format("SetMaxConcurrency needs at least 1, got {}", o.max_concurrency));
  }
  if (o.max_restarts < -1) {
    Invalid(factory,
            fmt::format("SetMaxRestarts needs -1 (no limit) or more, got {}", o.max_restarts));
  }
  if (o.global_name && o.name.empty()) Invalid(factory, "SetGlobalName needs a non-empty name");
  if (!o.name_space.empty() && o.name.empty()) Invalid(factory, "SetName needs a non-empty name");
  if (o.get_if_exists && o.name.empty()) Invalid(factory, "SetGetIfExists needs SetName");
  std::set<std::string> groups;
  std::set<std::string> methods;
  for (const auto& g : o.groups) {
    if (g.name.empty() || g.name == "default") {
      Invalid(factory, "a concurrency group needs a name other than '' and 'default'");
    }
    if (!groups.insert(g.name).second) {
      Invalid(factory, fmt::format("concurrency group '{}' is defined twice", g.name));
    }
    if (g.max_concurrency < 1) {
      Invalid(factory, fmt::format("concurrency group '{}' needs max_concurrency >= 1, got {}",
                                   g.name, g.max_concurrency));
    }
    for (const auto& m : g.methods) {
      if (!methods.insert(m).second) {
        Invalid(factory, fmt::format("method {} is in two concurrency groups", m));
      }
    }
  }
}

}  // namespace

ActorManager::ActorManager(transport::Transport& transport, TaskManager& tasks,
                           ObjectManager& objects, ClusterView& view, ActorExecutor& executor,
                           const Options& options)
    : transport_(transport),
      tasks_(tasks),
      objects_(objects),
      view_(view),
      executor_(executor),
      options_(options),
      self_(transport.rank()) {}

void ActorManager::RegisterHandlers() {
  transport_.SetHandler(kActorNameRequest,
                        [this](Rank s, std::span<const std::byte> p) { OnNameRequest(s, p); });
  transport_.SetHandler(kActorNameReply,
                        [this](Rank s, std::span<const std::byte> p) { OnNameReply(s, p); });
}

std::string ActorManager::NameScope(const std::string& name_space, bool global) {
  return global ? std::string("global") : "ns:" + name_space;
}

internal::ActorRef ActorManager::Create(const std::string& factory, const std::string& class_tag,
                                        std::vector<internal::TaskArg> args,
                                        const internal::ActorOptions& options) {
  Validate(factory, options);
  TaskSpec spec;
  spec.id = tasks_.NewTaskId();
  spec.kind = TaskKind::kActorCreation;
  spec.actor = ActorId::ForCreation(spec.id);
  spec.function = factory;
  spec.name = options.name.empty() ? factory : options.name;
  ActorCreationSpec& c = spec.creation;
  c.class_tag = class_tag;
  c.max_concurrency = options.max_concurrency;
  c.max_restarts = options.max_restarts;
  c.detached = options.detached;
  c.groups = options.groups;
  c.name = options.name;
  bool explicit_cpu = false;
  for (const auto& [name, amount] : options.resources) {
    if (Status s = c.held.Set(name, amount); !s) Invalid(factory, s.error().message);
    explicit_cpu |= name == "CPU";
  }
  spec.resources = c.held;
  // Without an explicit CPU an actor needs 1 CPU to be placed and holds none (the seed's rule).
  ResourceSet demand = c.held;
  if (!explicit_cpu) (void)demand.Set("CPU", 1.0);

  using Kind = internal::SchedulingOptions::Kind;
  internal::SchedulingOptions scheduling = tasks_.Effective(options.scheduling);
  Rank target = kNoRank;
  if (scheduling.kind == Kind::kPlacementGroup) {
    target = PlaceInGroup(factory, scheduling, &spec);
  } else {
    ClusterView::Request request;
    request.for_actor = true;
    request.holds = &c.held;
    if (scheduling.kind == Kind::kSpread) request.kind = ClusterView::Request::kSpread;
    if (scheduling.kind == Kind::kNodeAffinity) {
      request.kind = ClusterView::Request::kAffinity;
      request.affinity = tasks_.ResolveNode(scheduling.node, "prism::Actor");
      request.soft = scheduling.soft;
    }
    ClusterView::Decision decision = view_.Pick(demand, request);
    target = decision.rank;
    if (target == kNoRank) {
      throw ActorUnschedulableError(
          scheduling.kind == Kind::kNodeAffinity && !scheduling.soft
              ? fmt::format("prism::Actor({}): it must run on node {}, but {}", factory,
                            scheduling.node, decision.why)
          : decision.why.empty()
              ? fmt::format("prism::Actor({}): no live rank can host the actor, which needs {}",
                            factory, demand.ToString())
              : fmt::format("prism::Actor({}): no rank of this job has enough '{}' for the actor, "
                            "which needs {}; a batch allocation does not grow, so it cannot be "
                            "created",
                            factory, decision.why, demand.ToString()));
    }
  }

  if (!options.name.empty()) {
    std::string name_space =
        options.name_space.empty() ? options_.job_namespace : options.name_space;
    c.scope = NameScope(name_space, options.global_name);
    NameRequest request;
    request.op = NameRequest::kRegister;
    request.scope = c.scope;
    request.name = options.name;
    request.actor = spec.actor;
    request.rank = target;
    request.class_tag = class_tag;
    NameReply reply = Request(std::move(request), "prism::Actor(...).SetName");
    if (reply.status == NameReply::kTaken) {
      std::string where =
          options.global_name ? "the global scope" : fmt::format("namespace '{}'", name_space);
      if (!options.get_if_exists) {
        Invalid(factory, fmt::format("the actor name '{}' is already taken in {} by {} (call "
                                     "SetGetIfExists() to get that actor instead)",
                                     options.name, where, reply.actor.ToString()));
      }
      if (reply.class_tag != class_tag) {
        Invalid(factory, fmt::format("the actor named '{}' in {} is a {}, not a {}", options.name,
                                     where, ClassName(reply.class_tag), ClassName(class_tag)));
      }
      AddHandleRef(reply.actor);
      return internal::ActorRef{reply.actor, reply.rank};
    }
  }

  internal::ActorRef ref{spec.actor, target};
  {
    std::lock_guard lock(mu_);
    Owned& owned = owned_[ref.id];
    owned.handles = 1;
    owned.collectable = !options.detached && options.name.empty();
    owned.rank = target;
  }
  view_.OnActorPlaced(target);
  Log().debug("{} ({}) placed on rank {}", ref.id.ToString(), factory, target);
  // Nobody reads the creation's return: the actor's calls learn how the creation went.
  ObjectId creation_return = tasks_.SubmitTo(target, std::move(spec), std::move(args));
  objects_.RemoveLocalRef(creation_return);
  return ref;
}

Rank ActorManager::PlaceInGroup(const std::string& factory,
                                const internal::SchedulingOptions& scheduling, TaskSpec* spec) {
  const PlacementGroupId& pg = scheduling.placement_group;
  if (!layouts_) Invalid(factory, "placement groups are not available on this rank");
  // The handle names the actor's rank, so creation waits until the group is placed.
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<BundleLayout>> found;
  layouts_(pg, [&](Result<BundleLayout> layout) {
    std::lock_guard lock(mu);
    found.emplace(std::move(layout));
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return found.has_value(); });
  }
  if (!*found) {
    throw ActorPlacementGroupRemovedError(fmt::format("prism::Actor({}): placement group {}: {}",
                                                      factory, pg.Hex(), found->error().message));
  }
  const BundleLayout& layout = **found;
  ActorCreationSpec& c = spec->creation;
  std::string error;
  int bundle = ChooseBundle(
      layout, c.held, scheduling.bundle_index, next_bundle_.fetch_add(1),
      [&](Rank rank, int index) { return view_.HasRoom(rank, DemandInBundle(c.held, pg, index)); },
      &error);
  if (bundle < 0) {
    throw ActorUnschedulableError(
        fmt::format("prism::Actor({}): placement group {}: {}", factory, pg.Hex(), error));
  }
  c.held = DemandInBundle(c.held, pg, scheduling.bundle_index);
  spec->resources = c.held;
  spec->placement_group = pg;
  spec->bundle_index = scheduling.bundle_index;
  spec->capture_child_tasks = scheduling.capture_child_tasks;
  return layout.ranks[bundle];
}

ObjectId ActorManager::Call(const internal::ActorRef& actor, const std::string& method,
                            std::vector<internal::TaskArg> args,
                            const internal::ActorCallOptions& options) {
  TaskSpec spec;
  spec.kind = TaskKind::kActorCall;
  spec.actor = actor.id;
  spec.function = method;
  spec.name = options.name;
  spec.group = options.concurrency_group;
  {
    std::lock_guard lock(mu_);
    spec.caller_seq = ++next_seq_[actor.id];
  }
  return tasks_.SubmitTo(actor.rank, std::move(spec), std::move(args));
}

void ActorManager::Kill(const internal::ActorRef& actor, bool no_restart) {
  if (actor.IsNil()) throw PrismError("ActorHandle::Kill: the handle is empty");
  KillRequest request;
  request.actor = actor.id;
  request.no_restart = no_restart;
  request.reason = fmt::format("it was killed by ActorHandle::Kill() on rank {}", self_);
  SendKill(actor.rank, request);
}

void ActorManager::SendKill(Rank rank, const KillRequest& request) {
  if (rank == self_) {
    executor_.Kill(request);
  } else if (Status s = transport_.Send(rank, kKillActor, EncodeKillRequest(request)); !s) {
    Log().info("kill of {} not delivered (its rank {} is gone): {}", request.actor.ToString(), rank,
               s.ToString());
  }
}

std::optional<internal::ActorRef> ActorManager::Lookup(const std::string& name,
                                                       const std::string& name_space, bool global,
                                                       const std::string& class_tag) {
  const char* api = global ? "prism::GetGlobalActor" : "prism::GetActor";
  if (name.empty()) throw PrismError(fmt::format("{}: the name is empty", api));
  NameRequest request;
  request.op = NameRequest::kLookup;
  request.scope = NameScope(name_space.empty() ? options_.job_namespace : name_space, global);
  request.name = name;
  NameReply reply = Request(std::move(request), api);
  if (reply.status != NameReply::kFound) return std::nullopt;
  if (reply.class_tag != class_tag) {
    throw PrismError(fmt::format("{}: the actor named '{}' is a {}, not a {}", api, name,
                                 ClassName(reply.class_tag), ClassName(class_tag)));
  }
  AddHandleRef(reply.actor);
  return internal::ActorRef{reply.actor, reply.rank};
}

NameReply ActorManager::Request(NameRequest request, const char* api) {
  if (self_ == 0) return directory_.Handle(request);
  auto pending = std::make_shared<PendingRequest>();
  request.request_id = next_request_.fetch_add(1);
  {
    std::lock_guard lock(requests_mu_);
    requests_[request.request_id] = pending;
  }
  Status sent = transport_.Send(0, kActorNameRequest, EncodeNameRequest(request));
  auto done = [&] {
    std::lock_guard lock(requests_mu_);
    return pending->done;
  };
  bool answered =
      sent && transport_.WaitUntil(done, request_event_,
                                   NowNanos() + options_.request_timeout_ms * 1'000'000, 20'000);
  std::lock_guard lock(requests_mu_);
  requests_.erase(request.request_id);
  if (!answered || !pending->failure.empty()) {
    throw PrismError(
        fmt::format("{}: the actor directory on rank 0 did not answer: {}", api,
                    !sent ? sent.ToString()
                          : (pending->failure.empty()
                                 ? fmt::format("no reply within {} ms", options_.request_timeout_ms)
                                 : pending->failure)));
  }
  return pending->reply;
}

void ActorManager::OnNameRequest(Rank source, std::span<const std::byte> payload) {
  auto request = DecodeNameRequest(payload);
  if (!request || self_ != 0) {
    Log().warn("dropped an actor name request from rank {}: {}", source,
               request ? "this rank holds no directory" : request.error().ToString());
    return;
  }
  NameReply reply = directory_.Handle(*request);
  if (request->op == NameRequest::kRelease) return;
  (void)transport_.Send(source, kActorNameReply, EncodeNameReply(reply));
}

void ActorManager::OnNameReply(Rank source, std::span<const std::byte> payload) {
  auto reply = DecodeNameReply(payload);
  if (!reply || source != 0) {
    Log().warn("dropped an actor name reply from rank {}", source);
    return;
  }
  {
    std::lock_guard lock(requests_mu_);
    auto it = requests_.find(reply->request_id);
    if (it == requests_.end()) return;  // the requester gave up
    it->second->reply = *reply;
    it->second->done = true;
  }
  request_event_.Notify();
}

void ActorManager::ReleaseName(const std::string& scope, const std::string& name,
                               const ActorId& actor) {
  NameRequest request;
  request.op = NameRequest::kRelease;
  request.scope = scope;
  request.name = name;
  request.actor = actor;
  if (self_ == 0) {
    directory_.Handle(request);
  } else {
    (void)transport_.Send(0, kActorNameRequest, EncodeNameRequest(request));
  }
}

void ActorManager::AddHandleRef(const ActorId& id) {
  if (id.owner != self_) return;
  std::lock_guard lock(mu_);
  auto it = owned_.find(id);
  if (it != owned_.end()) ++it->second.handles;
}

void ActorManager::RemoveHandleRef(const ActorId& id) {
  if (id.owner != self_) return;
  KillRequest request;
  Rank rank = kNoRank;
  {
    std::lock_guard lock(mu_);
    auto it = owned_.find(id);
    if (it == owned_.end() || --it->second.handles > 0) return;
    Owned owned = it->second;
    owned_.erase(it);
    if (!owned.collectable || owned.escaped) return;
    rank = owned.rank;
    auto seq = next_seq_.find(id);
    if (seq != next_seq_.end()) {
      request.last_seq = seq->second;
      next_seq_.erase(seq);
    }
  }
  request.actor = id;
  request.after_calls = true;
  request.caller = self_;
  request.reason = "its owner dropped every handle to it";
  SendKill(rank, request);
}

void ActorManager::OnHandleSerialized(const ActorId& id) {
  if (id.owner != self_) return;
  std::lock_guard lock(mu_);
  auto it = owned_.find(id);
  if (it != owned_.end()) it->second.escaped = true;
}

void ActorManager::OnPeerFailure(Rank rank, const std::string& why) {
  if (self_ == 0) directory_.OnPeerFailure(rank);
  if (rank != 0) return;
  {
    std::lock_guard lock(requests_mu_);
    for (auto& [id, pending] : requests_) {
      pending->failure = "rank 0 died: " + why;
      pending->done = true;
    }
  }
  request_event_.Notify();
}

}  // namespace prism::runtime
