#pragma once
/// ActorPool: schedules calls over a fixed set of actors (Ray's ray.util.ActorPool, ACT-33).
///
///   std::vector<prism::ActorHandle<Solver>> actors;
///   for (int i = 0; i < 4; ++i) actors.push_back(prism::Actor(CreateSolver).Remote());
///   prism::ActorPool<Solver> pool(actors);
///   auto solve = [](const prism::ActorHandle<Solver>& a, int input) {
///     return a.Task(&Solver::Solve).Remote(input);
///   };
///   std::vector<double> out = pool.Map(solve, std::vector<int>{1, 2, 3, 4, 5, 6});  // in order
///
///   pool.Submit(solve, 7);                      // runs when an actor is free
///   pool.Submit(solve, 8);
///   while (pool.HasNext()) use(pool.GetNextUnordered<double>());  // as they finish
///
/// Each actor runs at most one of the pool's calls at a time: a submission finding no idle actor
/// waits in the pool (FIFO) and is sent when a result is fetched, which returns its actor to the
/// pool. Results are fetched either in submission order (GetNext) or in completion order
/// (GetNextUnordered). Not thread-safe: use a pool from one thread.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "prism/runtime/actor.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/internal/core.h"
#include "prism/runtime/object_ref.h"
#include "prism/runtime/task_caller.h"

namespace prism {

/// Calls scheduled over a fixed set of actors of class C. Not thread-safe.
template <typename C>
class ActorPool {
 public:
  /// A pool over `actors`, all idle.
  explicit ActorPool(std::vector<ActorHandle<C>> actors) : idle_(std::move(actors)) {}

  ActorPool(const ActorPool&) = delete;
  ActorPool& operator=(const ActorPool&) = delete;
  ActorPool(ActorPool&&) = default;
  ActorPool& operator=(ActorPool&&) = default;

  /// Calls `fn(actor, value)` on an idle actor, or queues the call until one is free. `fn` submits
  /// one call through the handle and returns its ObjectRef; it is copied when the call waits. An
  /// exception from fn leaves the actor idle and propagates from the call that ran fn: Submit, or,
  /// for a submission that waited, the GetNext, GetNextUnordered or Push that freed its actor.
  template <typename F, typename V>
  void Submit(F fn, V value) {
    static_assert(internal::IsObjectRef<ResultRef<F, V>>::value,
                  "prism::ActorPool::Submit: fn(actor, value) must return the ObjectRef of one "
                  "actor call");
    Call call = [fn = std::move(fn), value = std::move(value)](const ActorHandle<C>& actor) {
      return internal::ObjectRefBase(std::invoke(fn, actor, value));
    };
    if (idle_.empty()) {
      waiting_.push_back(std::move(call));
    } else {
      Dispatch(std::move(call));
    }
  }

  /// True while a submitted call's result has not been fetched yet.
  bool HasNext() const { return !in_flight_.empty(); }

  /// The result of the oldest submission not fetched yet, as an R (the value type of the
  /// ObjectRef that fn returned). Waits at most `timeout_ms` (< 0: no limit) and then throws
  /// GetTimeoutError, keeping the call. Re-throws the call's error (TaskError, ActorDiedError)
  /// after returning its actor to the pool. Throws PrismError when nothing is pending.
  template <typename R>
  R GetNext(int64_t timeout_ms = -1) {
    CheckHasNext("prism::ActorPool::GetNext");
    auto oldest = in_flight_.begin();
    // Without a limit the actor goes back at once: a waiting call queues behind on it.
    if (timeout_ms >= 0) FirstReady({oldest->second.result.ID()}, timeout_ms);
    return Take<R>(oldest);
  }

  /// The result of a finished call (the oldest one among those that are done), as an R. Waits at
  /// most `timeout_ms` (< 0: no limit) for one and then throws GetTimeoutError. Errors as GetNext.
  template <typename R>
  R GetNextUnordered(int64_t timeout_ms = -1) {
    CheckHasNext("prism::ActorPool::GetNextUnordered");
    std::vector<ObjectId> ids;
    ids.reserve(in_flight_.size());
    for (const auto& [index, call] : in_flight_) ids.push_back(call.result.ID());
    return Take<R>(std::next(in_flight_.begin(), FirstReady(ids, timeout_ms)));
  }

  /// Submits fn for every value, after dropping calls still waiting in the pool and the results
  /// not fetched yet of earlier submissions (as Ray's map does), and returns the results in the
  /// order of `values`. Re-throws the first error in that order.
  template <typename F, typename V>
  auto Map(const F& fn, const std::vector<V>& values) {
    return SubmitAll(fn, values, &ActorPool::GetNext<ResultOf<F, V>>);
  }

  /// As Map, but the results come in the order the calls finished.
  template <typename F, typename V>
  auto MapUnordered(const F& fn, const std::vector<V>& values) {
    return SubmitAll(fn, values, &ActorPool::GetNextUnordered<ResultOf<F, V>>);
  }

  /// True when an actor is idle and no submission waits for one.
  bool HasFree() const { return !idle_.empty() && waiting_.empty(); }

  /// Removes an idle actor from the pool and returns it; nullopt unless HasFree().
  std::optional<ActorHandle<C>> PopIdle() {
    if (!HasFree()) return std::nullopt;
    ActorHandle<C> actor = std::move(idle_.back());
    idle_.pop_back();
    return actor;
  }

  /// Adds `actor` to the pool (it takes the oldest waiting submission at once). Throws PrismError
  /// when the actor already belongs to the pool.
  void Push(ActorHandle<C> actor) {
    bool member = std::find(idle_.begin(), idle_.end(), actor) != idle_.end();
    for (const auto& [index, call] : in_flight_) member = member || call.actor == actor;
    if (member) throw PrismError("prism::ActorPool::Push: the actor already belongs to the pool");
    Return(std::move(actor));
  }

 private:
  // The ObjectRef type fn returns for a value of type V, and the value type of that ref.
  template <typename F, typename V>
  using ResultRef = std::decay_t<std::invoke_result_t<const F&, const ActorHandle<C>&, const V&>>;
  template <typename F, typename V>
  using ResultOf = typename internal::IsObjectRef<ResultRef<F, V>>::Value;

  // A submission bound to its value: runs fn on the actor it is given.
  using Call = std::function<internal::ObjectRefBase(const ActorHandle<C>&)>;

  struct InFlight {
    ActorHandle<C> actor;
    internal::ObjectRefBase result;
  };
  // Ordered by submission: the first entry is the oldest call not fetched.
  using InFlightMap = std::map<uint64_t, InFlight>;

  // Runs `call` on the last idle actor (there is one).
  void Dispatch(Call call) {
    // The actor leaves the idle list only once the call is submitted: if fn throws, it stays.
    internal::ObjectRefBase result = call(idle_.back());
    in_flight_.emplace(next_index_++, InFlight{std::move(idle_.back()), std::move(result)});
    idle_.pop_back();
  }

  // An actor is free again: it takes the oldest waiting call, if any.
  void Return(ActorHandle<C> actor) {
    idle_.push_back(std::move(actor));
    if (waiting_.empty()) return;
    Call call = std::move(waiting_.front());
    waiting_.pop_front();
    Dispatch(std::move(call));
  }

  void CheckHasNext(const char* api) const {
    if (!HasNext()) throw PrismError(std::string(api) + ": no submitted call left to fetch");
  }

  // The index in `ids` of the first ready object, waiting at most `timeout_ms` for one.
  static size_t FirstReady(const std::vector<ObjectId>& ids, int64_t timeout_ms) {
    std::vector<bool> ready = internal::WaitObjects(ids, 1, timeout_ms);
    for (size_t i = 0; i < ready.size(); ++i) {
      if (ready[i]) return i;
    }
    throw GetTimeoutError("prism::ActorPool: no result within " + std::to_string(timeout_ms) +
                          " ms");
  }

  // Fetches the result of `entry` as an R, once its actor is back in the pool.
  template <typename R>
  R Take(typename InFlightMap::iterator entry) {
    internal::ObjectRefBase result = std::move(entry->second.result);
    ActorHandle<C> actor = std::move(entry->second.actor);
    in_flight_.erase(entry);
    Return(std::move(actor));
    // Typed view of the same object: one more local reference, owned by `typed`.
    internal::AddLocalRef(result.ID());
    ObjectRef<R> typed = ObjectRef<R>::Adopt(result.ID());
    if constexpr (std::is_void_v<R>) {
      typed.Get();
    } else {
      return std::move(*typed.Get());
    }
  }

  template <typename F, typename V, typename Next>
  auto SubmitAll(const F& fn, const std::vector<V>& values, Next next) {
    using R = ResultOf<F, V>;
    static_assert(!std::is_void_v<R>, "prism::ActorPool::Map needs calls that return a value");
    waiting_.clear();
    for (auto& [index, call] : in_flight_) idle_.push_back(std::move(call.actor));
    in_flight_.clear();
    for (const V& value : values) Submit(fn, value);
    std::vector<R> results;
    results.reserve(values.size());
    while (HasNext()) results.push_back((this->*next)(-1));
    return results;
  }

  std::vector<ActorHandle<C>> idle_;
  std::deque<Call> waiting_;
  InFlightMap in_flight_;
  uint64_t next_index_ = 0;
};

}  // namespace prism
