#pragma once
/// PRISM_REMOTE: registers functions so that any rank can run them by name (the seed's
/// RAY_REMOTE). Every rank runs the same binary, so a name means the same code everywhere.
///
///   int Add(int a, int b) { return a + b; }
///   PRISM_REMOTE(Add);                       // at namespace scope, after the definition
///   auto sum = prism::Task(Add).Remote(1, 2);
///
/// A name registered twice for different functions aborts at start-up with a message naming it.

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

template <typename F>
concept RemoteFunctionPointer =
    std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>;

/// Runs a registered function on serialized arguments and serializes what it returns.
using Invoker = std::function<BufferPtr(std::span<const BufferPtr> args)>;

/// A function that tasks can run.
struct RemoteFunction {
  std::string name;
  size_t arity = 0;
  Invoker invoke;
};

/// Name <-> function table, filled by PRISM_REMOTE during static initialisation. Thread-safe.
class FunctionRegistry {
 public:
  static FunctionRegistry& Instance();

  /// Registers `name`; aborts when the name is taken by another function.
  void Add(std::string name, std::string key, size_t arity, Invoker invoke);
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

/// The bytes of a function pointer: how a caller finds the name it was registered under.
template <typename F>
std::string FunctionKey(F f) {
  return std::string(reinterpret_cast<const char*>(&f), sizeof f);
}

template <typename F>
BufferPtr Invoke(F f, std::span<const BufferPtr> args) {
  using Traits = FunctionTraits<F>;
  using Params = typename Traits::Params;
  using R = typename Traits::Return;
  if (args.size() != Traits::kArity) {
    throw PrismError("prism: function called with " + std::to_string(args.size()) +
                     " arguments, takes " + std::to_string(Traits::kArity));
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
  (std::make_index_sequence<Traits::kArity>{});
}

/// Splits "f, ns::g, &C::m" into trimmed names.
std::vector<std::string> SplitRemoteNames(std::string_view names);

template <typename F>
void RegisterOne(const std::string& name, F f) {
  if constexpr (RemoteFunctionPointer<F>) {
    FunctionRegistry::Instance().Add(
        name, FunctionKey(f), FunctionTraits<F>::kArity,
        [f](std::span<const BufferPtr> args) { return Invoke(f, args); });
  } else {
    static_assert(
        RemoteFunctionPointer<F>,
        "prism: PRISM_REMOTE takes free functions (actor methods are not supported by this "
        "version of Prism)");
  }
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

/// Registers free functions as remote functions, by their spelled names.
#define PRISM_REMOTE(...)                                                                \
  [[maybe_unused]] static const bool PRISM_INTERNAL_CONCAT(prism_remote_, __COUNTER__) = \
      ::prism::internal::RegisterRemote(#__VA_ARGS__, __VA_ARGS__)
