#pragma once
/// Actors: stateful workers that live on one rank (the seed's ray::Actor, under prism::).
///
///   class Counter {
///    public:
///     explicit Counter(int start) : value_(start) {}
///     int Increment() { return ++value_; }
///    private:
///     int value_;
///   };
///   Counter* CreateCounter(int start) { return new Counter(start); }
///   PRISM_REMOTE(CreateCounter, &Counter::Increment);
///
///   prism::ActorHandle<Counter> counter = prism::Actor(CreateCounter).Remote(0);
///   prism::ObjectRef<int> one = counter.Task(&Counter::Increment).Remote();
///
/// Calls from one caller run in the order they were submitted; calls on different actors run in
/// parallel. Handles are values: copy them, pass them to tasks and actors, return them, store
/// them inside objects, and call through them from any rank. docs/actors.md has the full model
/// (names and namespaces, lifetime, concurrency groups, errors).

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "prism/runtime/errors.h"
#include "prism/runtime/remote.h"
#include "prism/runtime/task_caller.h"

namespace prism {

/// How long an actor lives (the seed's `lifetime` option).
enum class ActorLifetime {
  kNonDetached,  ///< Ends with its owner (the rank that created it) and with the job.
  kDetached,     ///< Outlives its owner and its handles until killed or the runtime stops.
};

/// A named thread pool of an actor (ACT-26): at most `max_concurrency` calls of the methods
/// assigned to it run at once, independently of the actor's other groups.
///
///   prism::Actor(CreateServer)
///       .SetConcurrencyGroups({prism::ConcurrencyGroup("io", 2).AddMethod(&Server::Read),
///                              prism::ConcurrencyGroup("compute", 4).AddMethod(&Server::Solve)})
///       .Remote();
class ConcurrencyGroup {
 public:
  ConcurrencyGroup(std::string name, int max_concurrency) {
    spec_.name = std::move(name);
    spec_.max_concurrency = max_concurrency;
  }
  /// Runs the registered method `method` in this group unless a call picks another.
  template <typename M>
  requires internal::ActorMethodPointer<M> ConcurrencyGroup& AddMethod(M method) {
    spec_.methods.push_back(internal::RegisteredName(method, "prism::ConcurrencyGroup::AddMethod"));
    return *this;
  }
  const internal::ConcurrencyGroupSpec& spec() const { return spec_; }

 private:
  internal::ConcurrencyGroupSpec spec_;
};

template <typename M>
class ActorTaskCaller;

/// A reference to an actor. Copyable, serializable, usable from any rank.
template <typename C>
class ActorHandle {
 public:
  ActorHandle() = default;
  /// Takes over one handle reference already counted for `ref` (used by Remote and GetActor).
  static ActorHandle Adopt(internal::ActorRef ref) { return ActorHandle(ref); }

  ActorHandle(const ActorHandle& other) : ref_(other.ref_) {
    if (!ref_.IsNil()) internal::AddActorHandleRef(ref_.id);
  }
  ActorHandle(ActorHandle&& other) noexcept : ref_(std::exchange(other.ref_, {})) {}
  ActorHandle& operator=(const ActorHandle& other) {
    if (this != &other) {
      if (!other.ref_.IsNil()) internal::AddActorHandleRef(other.ref_.id);
      Reset();
      ref_ = other.ref_;
    }
    return *this;
  }
  ActorHandle& operator=(ActorHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      ref_ = std::exchange(other.ref_, {});
    }
    return *this;
  }
  ~ActorHandle() { Reset(); }

  /// A call of the registered method `method` of C.
  template <typename M>
  requires internal::ActorMethodPointer<M> ActorTaskCaller<M> Task(M method)
  const {
    static_assert(std::is_same_v<typename internal::MethodTraits<M>::Class, C>,
                  "prism: the method belongs to another class than the actor's (declare it in the "
                  "actor's class)");
    return ActorTaskCaller<M>(ref_, method);
  }

  /// Ends the actor at once: calls running, queued or submitted later fail with
  /// prism::ActorDiedError. With no_restart = false an actor created with SetMaxRestarts(n)
  /// restarts (its factory runs again) while it has restarts left.
  void Kill(bool no_restart = true) const { internal::KillActor(ref_, no_restart); }

  const ActorId& ID() const { return ref_.id; }
  /// The rank hosting the actor.
  Rank rank() const { return ref_.rank; }
  bool IsNil() const { return ref_.IsNil(); }
  const internal::ActorRef& ref() const { return ref_; }
  friend bool operator==(const ActorHandle& a, const ActorHandle& b) {
    return a.ref_.id == b.ref_.id;
  }

 private:
  explicit ActorHandle(internal::ActorRef ref) : ref_(ref) {}
  void Reset() {
    if (!ref_.IsNil()) internal::RemoveActorHandleRef(ref_.id);
    ref_ = {};
  }
  internal::ActorRef ref_;
};

/// A pending call of an actor method; Remote() submits it.
template <typename M>
class ActorTaskCaller {
  using Traits = internal::MethodTraits<M>;

 public:
  using Return = typename Traits::Return;

  /// Throws prism::PrismError when `method` was not registered with PRISM_REMOTE.
  ActorTaskCaller(internal::ActorRef actor, M method)
      : actor_(actor), method_(internal::RegisteredName(method, "ActorHandle::Task")) {
    if (actor_.IsNil()) throw PrismError("ActorHandle::Task: the handle is empty");
  }

  /// Name shown in logs (defaults to the method's registered name).
  ActorTaskCaller& SetName(std::string name) {
    options_.name = std::move(name);
    return *this;
  }
  /// Runs this call in concurrency group `group` instead of the method's own (ACT-28).
  ActorTaskCaller& SetConcurrencyGroup(std::string group) {
    options_.concurrency_group = std::move(group);
    return *this;
  }

  /// Submits the call; returns a reference to its result at once.
  template <typename... Args>
  ObjectRef<Return> Remote(Args&&... args) {
    auto call_args = internal::MakeArgs<typename Traits::Params>(std::forward<Args>(args)...);
    return ObjectRef<Return>::Adopt(
        internal::SubmitActorTask(actor_, method_, std::move(call_args), options_));
  }

 private:
  internal::ActorRef actor_;
  std::string method_;
  internal::ActorCallOptions options_;
};

/// A pending creation of an actor from a registered factory; Remote() creates it. Scheduling
/// options (SetSchedulingStrategy, SetPlacementGroup, ...) come from internal::SchedulingSetters.
template <typename F>
class ActorCreator : public internal::SchedulingSetters<ActorCreator<F>> {
  using Traits = internal::FunctionTraits<F>;
  friend class internal::SchedulingSetters<ActorCreator<F>>;

 public:
  using Class = internal::FactoryClassOf<F>;

  /// Throws prism::PrismError when `factory` was not registered with PRISM_REMOTE.
  explicit ActorCreator(F factory) : factory_(internal::RegisteredName(factory, "prism::Actor")) {}

  /// Requires `amount` of resource `name` for the actor's whole life. Without an explicit "CPU",
  /// an actor needs 1 CPU to be placed and holds none while it lives (the seed's default).
  ActorCreator& SetResource(const std::string& name, double amount) {
    options_.resources.emplace_back(name, amount);
    return *this;
  }
  ActorCreator& SetResources(const std::unordered_map<std::string, double>& resources) {
    for (const auto& [name, amount] : resources) options_.resources.emplace_back(name, amount);
    return *this;
  }
  /// Names the actor in the job's namespace: prism::GetActor<C>(name) finds it.
  ActorCreator& SetName(std::string name) {
    options_.name = std::move(name);
    options_.name_space.clear();
    options_.global_name = false;
    return *this;
  }
  /// Names the actor in namespace `name_space`: prism::GetActor<C>(name, name_space) finds it.
  ActorCreator& SetName(std::string name, std::string name_space) {
    options_.name = std::move(name);
    options_.name_space = std::move(name_space);
    options_.global_name = false;
    return *this;
  }
  /// Names the actor in the global scope, seen from every namespace: prism::GetGlobalActor<C>.
  ActorCreator& SetGlobalName(std::string name) {
    options_.name = std::move(name);
    options_.name_space.clear();
    options_.global_name = true;
    return *this;
  }
  /// With a name: return the live actor of that name instead of failing (its arguments are then
  /// ignored), or create it when there is none (ACT-16).
  ActorCreator& SetGetIfExists(bool get_if_exists = true) {
    options_.get_if_exists = get_if_exists;
    return *this;
  }
  /// Runs up to `n` calls at once in the default group (a threaded actor, ACT-24).
  ActorCreator& SetMaxConcurrency(int n) {
    options_.max_concurrency = n;
    return *this;
  }
  /// Restarts after Kill(/*no_restart=*/false) at most `n` times (-1: without limit).
  ActorCreator& SetMaxRestarts(int n) {
    options_.max_restarts = n;
    return *this;
  }
  ActorCreator& SetLifetime(ActorLifetime lifetime) {
    options_.detached = lifetime == ActorLifetime::kDetached;
    return *this;
  }
  /// Named thread pools with their methods (ACT-26); methods of no group run in the default
  /// group (SetMaxConcurrency).
  ActorCreator& SetConcurrencyGroups(const std::vector<ConcurrencyGroup>& groups) {
    for (const auto& g : groups) options_.groups.push_back(g.spec());
    return *this;
  }

  /// Creates the actor and returns its handle at once; the factory runs on the chosen rank.
  /// Throws prism::PrismError when the name is taken (and SetGetIfExists is off) or an option is
  /// invalid, prism::ActorUnschedulableError when no rank can ever host it.
  template <typename... Args>
  ActorHandle<Class> Remote(Args&&... args) {
    auto create_args = internal::MakeArgs<typename Traits::Params>(std::forward<Args>(args)...);
    return ActorHandle<Class>::Adopt(internal::CreateActor(factory_, internal::ClassTag<Class>(),
                                                           std::move(create_args), options_));
  }

 private:
  std::string factory_;
  internal::ActorOptions options_;
};

/// A creation of an actor from the registered factory `factory` (the seed's ray::Actor).
template <typename F>
requires internal::ActorFactoryPointer<F> ActorCreator<F> Actor(F factory) {
  return ActorCreator<F>(factory);
}

/// The live actor named `name` in the job's namespace, or nullopt. Throws PrismError when that
/// actor is not a C.
template <typename C>
std::optional<ActorHandle<C>> GetActor(const std::string& name) {
  auto ref = internal::LookupActor(name, "", false, internal::ClassTag<C>());
  if (!ref) return std::nullopt;
  return ActorHandle<C>::Adopt(*ref);
}

/// The live actor named `name` in namespace `name_space`, or nullopt.
template <typename C>
std::optional<ActorHandle<C>> GetActor(const std::string& name, const std::string& name_space) {
  if (name_space.empty()) throw PrismError("prism::GetActor: the namespace is empty");
  auto ref = internal::LookupActor(name, name_space, false, internal::ClassTag<C>());
  if (!ref) return std::nullopt;
  return ActorHandle<C>::Adopt(*ref);
}

/// The live actor with the global name `name` (SetGlobalName), or nullopt.
template <typename C>
std::optional<ActorHandle<C>> GetGlobalActor(const std::string& name) {
  auto ref = internal::LookupActor(name, "", true, internal::ClassTag<C>());
  if (!ref) return std::nullopt;
  return ActorHandle<C>::Adopt(*ref);
}

/// Ends the calling actor gracefully (inside one of its methods): the calling method's result
/// becomes an ActorDiedError, calls queued after it fail the same way, its destructor runs once
/// calls already running have finished. Throws PrismError outside an actor.
[[noreturn]] void ExitActor();

}  // namespace prism

// Handles inside serialized values travel as (actor, rank).
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <typename C>
  struct pack<prism::ActorHandle<C>> {
    template <typename Stream>
    packer<Stream>& operator()(packer<Stream>& o, const prism::ActorHandle<C>& handle) const {
      const prism::internal::ActorRef& ref = handle.ref();
      if (!ref.IsNil()) prism::internal::OnActorHandleSerialized(ref.id);
      o.pack_array(3);
      o.pack(ref.id.owner);
      o.pack(ref.id.seq);
      o.pack(ref.rank);
      return o;
    }
  };

  template <typename C>
  struct convert<prism::ActorHandle<C>> {
    const msgpack::object& operator()(const msgpack::object& o,
                                      prism::ActorHandle<C>& handle) const {
      if (o.type != msgpack::type::ARRAY || o.via.array.size != 3) throw msgpack::type_error();
      prism::internal::ActorRef ref;
      ref.id.owner = o.via.array.ptr[0].as<int32_t>();
      ref.id.seq = o.via.array.ptr[1].as<uint64_t>();
      ref.rank = o.via.array.ptr[2].as<int32_t>();
      if (ref.IsNil()) {
        handle = prism::ActorHandle<C>();
      } else {
        prism::internal::AddActorHandleRef(ref.id);
        handle = prism::ActorHandle<C>::Adopt(ref);
      }
      return o;
    }
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
