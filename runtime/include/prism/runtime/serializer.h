#pragma once
/// How values become object bytes and back.
///
/// - Raw: arithmetic types, enums, std::string, std::vector<E> and std::array<E, N> of those
///   scalars are stored as their bytes (every rank runs the same binary), so large arrays move
///   at memory speed. A type opts in with `template <> struct prism::IsRawSerializable<T> :
///   std::true_type {};` (only for trivially copyable types without pointers).
/// - msgpack: everything else, as Ray's C++ API does: user structs with MSGPACK_DEFINE(...),
///   STL containers of serializable types, ObjectRef (a reference, not the value), ActorHandle.
///
///   struct Point { double x, y; MSGPACK_DEFINE(x, y); };
///   auto ref = prism::Put(Point{1, 2});
///
/// A type that is neither fails to compile with a message that names it.

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <msgpack.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "prism/runtime/errors.h"
#include "prism/runtime/internal/core.h"

namespace prism {

/// Types stored as their object representation. Specialise for trivially copyable types.
template <typename T>
struct IsRawSerializable : std::bool_constant<std::is_arithmetic_v<T> || std::is_enum_v<T>> {};

template <typename T>
class ObjectRef;
template <typename C>
class ActorHandle;

namespace internal {

/// First byte of every object's metadata.
enum class ObjectFormat : uint8_t { kRaw = 1, kMsgpack = 2, kError = 3, kNil = 4 };

/// Metadata: format, then a 64-bit tag of the C++ type (checked when the value is read).
inline constexpr size_t kMetadataSize = 9;

template <typename T>
constexpr std::string_view TypeSignature() {
  return __PRETTY_FUNCTION__;
}

/// FNV-1a of the compiler's spelling of T: equal on every rank of one binary.
template <typename T>
constexpr uint64_t TypeTag() {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : TypeSignature<T>()) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

inline std::array<std::byte, kMetadataSize> MakeMetadata(ObjectFormat format, uint64_t tag) {
  std::array<std::byte, kMetadataSize> m{};
  m[0] = static_cast<std::byte>(format);
  std::memcpy(m.data() + 1, &tag, sizeof tag);
  return m;
}

inline ObjectFormat FormatOf(const ObjectBuffer& b) {
  return b.metadata().empty() ? ObjectFormat::kNil : static_cast<ObjectFormat>(b.metadata()[0]);
}

inline uint64_t TagOf(const ObjectBuffer& b) {
  uint64_t tag = 0;
  if (b.metadata().size() >= kMetadataSize) std::memcpy(&tag, b.metadata().data() + 1, sizeof tag);
  return tag;
}

template <typename T>
concept RawScalar = IsRawSerializable<T>::value && std::is_trivially_copyable_v<T>;

template <typename T>
struct RawContiguousTraits : std::false_type {};
template <RawScalar E, typename A>
struct RawContiguousTraits<std::vector<E, A>> : std::true_type {
  using Element = E;
};
template <>
struct RawContiguousTraits<std::string> : std::true_type {
  using Element = char;
};

/// Contiguous sequences of raw scalars (stored as their elements' bytes).
template <typename T>
concept RawContiguous = RawContiguousTraits<T>::value;

template <typename T>
struct IsMsgpackable : std::bool_constant<std::is_arithmetic_v<T>> {};
template <>
struct IsMsgpackable<std::string> : std::true_type {};
template <typename T>
requires requires(const T& v, msgpack::packer<msgpack::sbuffer>& p) { v.msgpack_pack(p); }
struct IsMsgpackable<T> : std::true_type {};
template <typename E, typename A>
struct IsMsgpackable<std::vector<E, A>> : IsMsgpackable<E> {};
template <typename E, typename A>
struct IsMsgpackable<std::list<E, A>> : IsMsgpackable<E> {};
template <typename E, typename A>
struct IsMsgpackable<std::deque<E, A>> : IsMsgpackable<E> {};
template <typename E, typename C, typename A>
struct IsMsgpackable<std::set<E, C, A>> : IsMsgpackable<E> {};
template <typename E, typename H, typename Q, typename A>
struct IsMsgpackable<std::unordered_set<E, H, Q, A>> : IsMsgpackable<E> {};
template <typename K, typename V, typename C, typename A>
struct IsMsgpackable<std::map<K, V, C, A>>
    : std::bool_constant<IsMsgpackable<K>::value && IsMsgpackable<V>::value> {};
template <typename K, typename V, typename H, typename Q, typename A>
struct IsMsgpackable<std::unordered_map<K, V, H, Q, A>>
    : std::bool_constant<IsMsgpackable<K>::value && IsMsgpackable<V>::value> {};
template <typename A, typename B>
struct IsMsgpackable<std::pair<A, B>>
    : std::bool_constant<IsMsgpackable<A>::value && IsMsgpackable<B>::value> {};
template <typename... Ts>
struct IsMsgpackable<std::tuple<Ts...>> : std::bool_constant<(IsMsgpackable<Ts>::value && ...)> {};
template <typename E, size_t N>
struct IsMsgpackable<std::array<E, N>> : IsMsgpackable<E> {};
template <typename E>
struct IsMsgpackable<std::optional<E>> : IsMsgpackable<E> {};
template <typename T>
struct IsMsgpackable<ObjectRef<T>> : std::true_type {};
template <typename C>
struct IsMsgpackable<ActorHandle<C>> : std::true_type {};

template <typename T>
concept Serializable = RawScalar<T> || RawContiguous<T> || IsMsgpackable<T>::value;

/// T's value as a new object buffer.
template <typename T>
BufferPtr Serialize(const T& value) {
  static_assert(Serializable<T>,
                "prism: this type cannot be serialized: give it MSGPACK_DEFINE(...), or, for a "
                "trivially copyable type without pointers, specialise prism::IsRawSerializable");
  constexpr uint64_t kTag = TypeTag<T>();
  if constexpr (RawScalar<T>) {
    auto meta = MakeMetadata(ObjectFormat::kRaw, kTag);
    BufferPtr b = AllocateObject(sizeof(T), meta);
    std::memcpy(b->mutable_data(), &value, sizeof(T));
    return b;
  } else if constexpr (RawContiguous<T>) {
    using E = typename RawContiguousTraits<T>::Element;
    size_t bytes = value.size() * sizeof(E);
    auto meta = MakeMetadata(ObjectFormat::kRaw, kTag);
    BufferPtr b = AllocateObject(bytes, meta);
    if (bytes != 0) std::memcpy(b->mutable_data(), value.data(), bytes);
    return b;
  } else {
    RefCollector nested;  // ObjectRefs inside the value
    msgpack::sbuffer packed;
    msgpack::pack(packed, value);
    auto meta = MakeMetadata(ObjectFormat::kMsgpack, kTag);
    BufferPtr b = AllocateObject(packed.size(), meta);
    if (packed.size() != 0) std::memcpy(b->mutable_data(), packed.data(), packed.size());
    nested.AttachTo(*b);
    return b;
  }
}

/// The nil object a void task returns.
inline BufferPtr SerializeNil() { return AllocateObject(0, MakeMetadata(ObjectFormat::kNil, 0)); }

/// Checks that `b` holds a T (re-throwing a stored error instead).
template <typename T>
void CheckReadable(const ObjectBuffer& b) {
  ObjectFormat format = FormatOf(b);
  if (format == ObjectFormat::kError) ThrowStoredError(b);
  if (TagOf(b) != TypeTag<T>()) {
    throw SerializationError(
        std::string("prism: object holds another type than the one it is read as (") +
        std::string(TypeSignature<T>()) + ")");
  }
}

/// Reads a T from an object buffer. Throws SerializationError, or the stored task error.
template <typename T>
T Deserialize(const ObjectBuffer& b) {
  CheckReadable<T>(b);
  auto data = b.data();
  if constexpr (RawScalar<T>) {
    if (data.size() != sizeof(T)) throw SerializationError("prism: raw object has the wrong size");
    T value;
    std::memcpy(&value, data.data(), sizeof(T));
    return value;
  } else if constexpr (RawContiguous<T>) {
    using E = typename RawContiguousTraits<T>::Element;
    if (data.size() % sizeof(E) != 0)
      throw SerializationError("prism: raw array size is not a multiple of its element");
    T value;
    value.resize(data.size() / sizeof(E));
    if (!data.empty()) std::memcpy(value.data(), data.data(), data.size());
    return value;
  } else {
    try {
      msgpack::object_handle handle =
          msgpack::unpack(reinterpret_cast<const char*>(data.data()), data.size());
      return handle.get().as<T>();
    } catch (const std::exception& e) {
      throw SerializationError(std::string("prism: cannot deserialize object: ") + e.what());
    }
  }
}

}  // namespace internal
}  // namespace prism
