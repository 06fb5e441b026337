#pragma once
/// PRISM_REMOTE: registers functions, actor factories and actor methods so that any rank can run
/// them by name (the seed's RAY_REMOTE). Every rank runs the same binary, so a name means the same
/// code everywhere.
///
///   int Add(int a, int b) { return a + b; }
///   Counter* CreateCounter(int start) { return new Counter(start); }
///   PRISM_REMOTE(Add, CreateCounter, &Counter::Increment);   // at namespace scope
///
/// A free function returning `C*`, `std::unique_ptr<C>` or `std::shared_ptr<C>` of a class C is
/// an actor factory (prism::Actor); a member function pointer is an actor method
/// (handle.Task(&C::Method)); any other free function is a task (prism::Task). A name registered
/// twice for different functions aborts at start-up with a message naming it.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "prism/runtime/errors.h"
#include "prism/runtime/object_ref.h"
#include "prism/runtime/serializer.h"

namespace prism::internal {

/// Parameter and return types of a free function pointer.
template <typename F>
struct FunctionTraits;
template <typename R, typename... A>
struct FunctionTraits<R (*)(A...)> {
  using Return = std::decay_t<R>;
  using Params = std::tuple<std::decay_t<A>...>;
  static constexpr size_t kArity = sizeof...(A);
};
template <typename R, typename... A>
struct FunctionTraits<R (*)(A...) noexcept> : FunctionTraits<R (*)(A...)> {};

/// Class, parameter and return types of a member function pointer (an actor method).
template <typename M>
struct MethodTraits;
template <typename R, typename C, typename... A>
struct MethodTraits<R (C::*)(A...)> {
  using Class = C;
  using Return = std::decay_t<R>;
  using Params = std::tuple<std::decay_t<A>...>;
  static constexpr size_t kArity = sizeof...(A);
};
template <typename R, typename C, typename... A>
struct MethodTraits<R (C::*)(A...) const> : MethodTraits<R (C::*)(A...)> {};
template <typename R, typename C, typename... A>
struct MethodTraits<R (C::*)(A...) noexcept> : MethodTraits<R (C::*)(A...)> {};
template <typename R, typename C, typename... A>
struct MethodTraits<R (C::*)(A...) const noexcept> : MethodTraits<R (C::*)(A...)> {};

/// The class an actor factory's return type creates: C for C*, unique_ptr<C>, shared_ptr<C>.
template <typename R>
struct FactoryClass {};
template <typename C>
requires std::is_class_v<C>
struct FactoryClass<C*> {
  using Class = C;
};
template <typename C, typename D>
struct FactoryClass<std::unique_ptr<C, D>> {
  using Class = C;
};
template <typename C>
struct FactoryClass<std::shared_ptr<C>> {
  using Class = C;
};

template <typename F>
concept RemoteFunctionPointer =
    std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>;

/// A free function that creates an actor.
template <typename F>
concept ActorFactoryPointer = RemoteFunctionPointer<F> && requires {
  typename FactoryClass<typename FunctionTraits<F>::Return>::Class;
};

/// A member function pointer (an actor method).
template <typename M>
concept ActorMethodPointer = std::is_member_function_pointer_v<M>;

/// A task function: a free function that is not a factory.
template <typename F>
concept TaskFunctionPointer = RemoteFunctionPointer<F> && !ActorFactoryPointer<F>;

/// The class of the actor a factory creates.
template <ActorFactoryPointer F>
using FactoryClassOf = typename FactoryClass<typename FunctionTraits<F>::Return>::Class;

/// A stable spelling of a class, to check that a method, a factory and a handle agree.
template <typename C>
std::string ClassTag() {
  return typeid(C).name();
}

/// Runs a registered function on serialized arguments and serializes what it returns.
using Invoker = std::function<BufferPtr(std::span<const BufferPtr> args)>;
/// Runs an actor factory; returns the new instance (type-erased, owning).
using FactoryInvoker = std::function<std::shared_ptr<void>(std::span<const BufferPtr> args)>;
/// Runs an actor method on an instance made by the factory of the same class.
using MethodInvoker = std::function<BufferPtr(void* self, std::span<const BufferPtr> args)>;

/// What a registered name stands for.
enum class RemoteKind : uint8_t { kFunction, kFactory, kMethod };

/// A function that tasks or actors can run.
struct RemoteFunction {
  std::string name;
  size_t arity = 0;
  RemoteKind kind = RemoteKind::kFunction;
  std::string class_tag;  ///< kFactory: the class it creates; kMethod: the method's class.
  Invoker invoke;         ///< kFunction
  FactoryInvoker create;  ///< kFactory
  MethodInvoker call;     ///< kMethod
};

/// Name <-> function table, filled by PRISM_REMOTE during static initialisation. Thread-safe.
class FunctionRegistry {
 public:
  static FunctionRegistry& Instance();

  /// Registers `fn` under fn.name; aborts when the name is taken by another function.
  void Add(RemoteFunction fn, std::string key);
  /// The function registered under `name`, or null.
  const RemoteFunction* Find(std::string_view name) const;
  /// The name of the function whose pointer bytes are `key`, or null.
  const std::string* NameOf(std::string_view key) const;
  std::vector<std::string> Names() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<RemoteFunction>, std::less<>> by_name_;
  std::map<std::string, std::string, std::less<>> name_by_key_;
};

/// The bytes of a function or member function pointer: how a caller finds the name it was
/// registered under.
template <typename F>
std::string FunctionKey(F f) {
  return std::string(reinterpret_cast<const char*>(&f), sizeof f);
}

/// The registered name of `f`; throws PrismError naming `api` when it was not registered.
template <typename F>
std::string RegisteredName(F f, const char* api) {
  const std::string* name = FunctionRegistry::Instance().NameOf(FunctionKey(f));
  if (name == nullptr) {
    throw PrismError(std::string(api) +
                     ": this function is not registered; add PRISM_REMOTE(<function>) at "
                     "namespace scope of the file that defines it");
  }
  return *name;
}

/// Calls `f` with the arguments deserialized as `Params`; serializes what it returns as `R`.
template <typename R, typename Params, typename F>
BufferPtr InvokeWith(F&& f, std::span<const BufferPtr> args) {
  constexpr size_t kArity = std::tuple_size_v<Params>;
  if (args.size() != kArity) {
    throw PrismError("prism: function called with " + std::to_string(args.size()) +
                     " arguments, takes " + std::to_string(kArity));
  }
  return [&]<size_t... I>(std::index_sequence<I...>)->BufferPtr {
    if constexpr (std::is_void_v<R>) {
      f(Deserialize<std::tuple_element_t<I, Params>>(*args[I])...);
      return SerializeNil();
    } else {
      static_assert(Serializable<R>, "prism: the function's return type cannot be serialized");
      return Serialize<R>(f(Deserialize<std::tuple_element_t<I, Params>>(*args[I])...));
    }
  }
  (std::make_index_sequence<kArity>{});
}

/// Splits "f, ns::g, &C::m" into trimmed names.
std::vector<std::string> SplitRemoteNames(std::string_view names);

template <typename F>
void RegisterOne(const std::string& name, F f) {
  RemoteFunction fn;
  fn.name = name;
  if constexpr (ActorFactoryPointer<F>) {
    using Traits = FunctionTraits<F>;
    using C = FactoryClassOf<F>;
    fn.kind = RemoteKind::kFactory;
    fn.arity = Traits::kArity;
    fn.class_tag = ClassTag<C>();
    fn.create = [f](std::span<const BufferPtr> args) -> std::shared_ptr<void> {
      constexpr size_t kArity = Traits::kArity;
      if (args.size() != kArity) throw PrismError("prism: actor factory called with wrong arity");
      return [&]<size_t... I>(std::index_sequence<I...>)->std::shared_ptr<void> {
        std::shared_ptr<C> made(
            f(Deserialize<std::tuple_element_t<I, typename Traits::Params>>(*args[I])...));
        if (!made) throw PrismError("the actor factory returned null");
        return made;
      }
      (std::make_index_sequence<kArity>{});
    };
  } else if constexpr (RemoteFunctionPointer<F>) {
    using Traits = FunctionTraits<F>;
    fn.arity = Traits::kArity;
    fn.invoke = [f](std::span<const BufferPtr> args) {
      return InvokeWith<typename Traits::Return, typename Traits::Params>(f, args);
    };
  } else if constexpr (ActorMethodPointer<F>) {
    using Traits = MethodTraits<F>;
    using C = typename Traits::Class;
    fn.kind = RemoteKind::kMethod;
    fn.arity = Traits::kArity;
    fn.class_tag = ClassTag<C>();
    fn.call = [f](void* self, std::span<const BufferPtr> args) {
      C* object = static_cast<C*>(self);
      return InvokeWith<typename Traits::Return, typename Traits::Params>(
          [&](auto&&... a) -> decltype(auto) {
            return (object->*f)(std::forward<decltype(a)>(a)...);
          },
          args);
    };
  } else {
    static_assert(RemoteFunctionPointer<F>,
                  "prism: PRISM_REMOTE takes free functions, actor factories and member "
                  "function pointers (&Class::Method)");
  }
  FunctionRegistry::Instance().Add(std::move(fn), FunctionKey(f));
}

template <typename... Fs>
bool RegisterRemote(std::string_view names, Fs... fs) {
  std::vector<std::string> split = SplitRemoteNames(names);
  size_t i = 0;
  (RegisterOne(split.at(i++), fs), ...);
  return true;
}

}  // namespace prism::internal

#define PRISM_INTERNAL_CONCAT2(a, b) a##b
#define PRISM_INTERNAL_CONCAT(a, b) PRISM_INTERNAL_CONCAT2(a, b)

/// Registers functions, actor factories and actor methods, by their spelled names.
#define PRISM_REMOTE(...)                                                                \
  [[maybe_unused]] static const bool PRISM_INTERNAL_CONCAT(prism_remote_, __COUNTER__) = \
      ::prism::internal::RegisterRemote(#__VA_ARGS__, __VA_ARGS__)
