#pragma once
/// prism::Task(f): builds a call of a remote function (the seed's ray::Task).
///
///   PRISM_REMOTE(Simulate);
///   prism::ObjectRef<double> r = prism::Task(Simulate).SetResource("CPU", 2).Remote(42,
///   params_ref);
///
/// Arguments are serialized as the function's parameter types (so Remote(1) for a double
/// parameter sends 1.0). An ObjectRef<U> argument for a parameter of type U is resolved to its
/// value before the task runs, wherever the value lives; for a parameter of type ObjectRef<U>
/// the reference itself is passed. Arity and types are checked at compile time.

#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "prism/runtime/remote.h"
#include "prism/runtime/scheduling_setters.h"

namespace prism {

namespace internal {

template <typename T>
struct IsObjectRef : std::false_type {};
template <typename T>
struct IsObjectRef<ObjectRef<T>> : std::true_type {
  using Value = T;
};

template <typename P, typename A>
TaskArg MakeArg(A&& arg) {
  using D = std::decay_t<A>;
  if constexpr (IsObjectRef<D>::value && !IsObjectRef<P>::value) {
    static_assert(std::is_same_v<typename IsObjectRef<D>::Value, P>,
                  "prism: an ObjectRef<U> argument needs a parameter of type U (or ObjectRef<U>)");
    return TaskArg{nullptr, arg.ID()};
  } else {
    static_assert(
        std::is_constructible_v<P, A&&>,
        "prism: an argument of Remote() cannot be converted to the function's parameter type");
    static_assert(Serializable<P>,
                  "prism: a parameter type of the remote function cannot be serialized");
    if constexpr (std::is_same_v<D, P>) {
      return TaskArg{Serialize<P>(arg), {}};
    } else {
      return TaskArg{Serialize<P>(P(std::forward<A>(arg))), {}};
    }
  }
}

/// The task arguments for a call with parameter types `Params` (a tuple).
template <typename Params, typename... Args>
std::vector<TaskArg> MakeArgs(Args&&... args) {
  static_assert(sizeof...(Args) == std::tuple_size_v<Params>,
                "prism: Remote() got a different number of arguments than the function takes");
  std::vector<TaskArg> out;
  out.reserve(sizeof...(Args));
  [&]<size_t... I>(std::index_sequence<I...>) {
    (out.push_back(MakeArg<std::tuple_element_t<I, Params>>(std::forward<Args>(args))), ...);
  }
  (std::make_index_sequence<sizeof...(Args)>{});
  return out;
}

}  // namespace internal

/// A pending call of a registered function; Remote() submits it. Scheduling options
/// (SetSchedulingStrategy, SetPlacementGroup, SetAcceleratorType, SetMemory) come from
/// internal::SchedulingSetters.
template <typename F>
class TaskCaller : public internal::SchedulingSetters<TaskCaller<F>> {
  using Traits = internal::FunctionTraits<F>;
  friend class internal::SchedulingSetters<TaskCaller<F>>;

 public:
  using Return = typename Traits::Return;

  /// Throws prism::PrismError when `f` was not registered with PRISM_REMOTE.
  explicit TaskCaller(F f) : name_(internal::RegisteredName(f, "prism::Task")) {}

  /// Requires `amount` of resource `name` ("CPU", "GPU", or custom) while the task runs.
  TaskCaller& SetResource(const std::string& name, double amount) {
    options_.resources.emplace_back(name, amount);
    return *this;
  }
  TaskCaller& SetResources(const std::unordered_map<std::string, double>& resources) {
    for (const auto& [name, amount] : resources) options_.resources.emplace_back(name, amount);
    return *this;
  }
  /// Name shown in logs (defaults to the function's registered name).
  TaskCaller& SetName(std::string name) {
    options_.name = std::move(name);
    return *this;
  }

  /// Submits the task; returns a reference to its result at once.
  template <typename... Args>
  ObjectRef<Return> Remote(Args&&... args) {
    auto task_args = internal::MakeArgs<typename Traits::Params>(std::forward<Args>(args)...);
    return ObjectRef<Return>::Adopt(internal::SubmitTask(name_, std::move(task_args), options_));
  }

 private:
  std::string name_;
  internal::TaskOptions options_;
};

/// A call of the registered free function `f`.
template <typename F>
requires internal::TaskFunctionPointer<F> TaskCaller<F> Task(F f) { return TaskCaller<F>(f); }

}  // namespace prism
