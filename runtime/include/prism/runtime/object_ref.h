#pragma once
/// ObjectRef<T>: a future for an immutable object that may live on any rank.
///
/// Made by prism::Put or a task's Remote(). Copies count as local references: the object is
/// freed when no reference (and no pending task using it) remains. Get() blocks until the value
/// is ready, fetching it from wherever it lives, and returns a shared pointer to a private copy
/// (mutating it does not affect the object):
///
///   prism::ObjectRef<int> ref = prism::Task(Add).Remote(1, 2);
///   int three = *ref.Get();
///   auto maybe = ref.Get(/*timeout_ms=*/100);   // throws prism::GetTimeoutError when late
///
/// An ObjectRef passed to a task whose parameter is T is resolved to the value before the task
/// runs; passed where the parameter is ObjectRef<T>, or nested inside a value, it stays a
/// reference. Thread-safe as a value type (distinct copies may be used from distinct threads).

#include <cstdint>
#include <memory>
#include <utility>

#include "prism/runtime/internal/core.h"
#include "prism/runtime/serializer.h"

namespace prism {

namespace internal {

/// Reference counting and identity shared by all ObjectRef<T>.
class ObjectRefBase {
 public:
  ObjectRefBase() = default;
  ObjectRefBase(const ObjectRefBase& other) : id_(other.id_) {
    if (!id_.IsNil()) AddLocalRef(id_);
  }
  ObjectRefBase(ObjectRefBase&& other) noexcept : id_(std::exchange(other.id_, ObjectId{})) {}
  ObjectRefBase& operator=(const ObjectRefBase& other) {
    if (this != &other) {
      if (!other.id_.IsNil()) AddLocalRef(other.id_);
      Reset();
      id_ = other.id_;
    }
    return *this;
  }
  ObjectRefBase& operator=(ObjectRefBase&& other) noexcept {
    if (this != &other) {
      Reset();
      id_ = std::exchange(other.id_, ObjectId{});
    }
    return *this;
  }
  ~ObjectRefBase() { Reset(); }

  /// The object's id (names its owner's rank).
  const ObjectId& ID() const { return id_; }
  bool IsNil() const { return id_.IsNil(); }
  friend bool operator==(const ObjectRefBase& a, const ObjectRefBase& b) { return a.id_ == b.id_; }

 protected:
  struct AdoptTag {};
  ObjectRefBase(ObjectId id, AdoptTag) : id_(id) {}
  BufferPtr Fetch(int64_t timeout_ms) const { return GetObjects({id_}, timeout_ms).front(); }

 private:
  void Reset() {
    if (!id_.IsNil()) RemoveLocalRef(id_);
    id_ = ObjectId{};
  }
  ObjectId id_;
};

}  // namespace internal

template <typename T>
class ObjectRef : public internal::ObjectRefBase {
 public:
  ObjectRef() = default;

  /// Waits for the value and returns a private copy of it.
  std::shared_ptr<T> Get() const { return Get(-1); }
  /// As Get(), but throws prism::GetTimeoutError after `timeout_ms` milliseconds.
  std::shared_ptr<T> Get(int64_t timeout_ms) const {
    internal::BufferPtr buffer = Fetch(timeout_ms);
    return std::make_shared<T>(internal::Deserialize<T>(*buffer));
  }

  /// Takes over one local reference already counted for `id` (used by Put and Remote).
  static ObjectRef Adopt(ObjectId id) { return ObjectRef(id, AdoptTag{}); }

 private:
  ObjectRef(ObjectId id, AdoptTag tag) : ObjectRefBase(id, tag) {}
};

/// The result of a task that returns nothing: Get() waits and re-throws the task's error.
template <>
class ObjectRef<void> : public internal::ObjectRefBase {
 public:
  ObjectRef() = default;
  void Get() const { Get(-1); }
  void Get(int64_t timeout_ms) const {
    internal::BufferPtr buffer = Fetch(timeout_ms);
    if (internal::FormatOf(*buffer) == internal::ObjectFormat::kError)
      internal::ThrowStoredError(*buffer);
  }
  static ObjectRef Adopt(ObjectId id) { return ObjectRef(id, AdoptTag{}); }

 private:
  ObjectRef(ObjectId id, AdoptTag tag) : ObjectRefBase(id, tag) {}
};

}  // namespace prism

// ObjectRefs inside serialized values travel as their id; the receiving rank becomes a borrower.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <typename T>
  struct pack<prism::ObjectRef<T>> {
    template <typename Stream>
    packer<Stream>& operator()(packer<Stream>& o, const prism::ObjectRef<T>& ref) const {
      const prism::ObjectId& id = ref.ID();
      if (!id.IsNil()) prism::internal::OnRefSerialized(id);
      o.pack_array(3);
      o.pack(id.owner);
      o.pack(id.index);
      o.pack(id.seq);
      return o;
    }
  };

  template <typename T>
  struct convert<prism::ObjectRef<T>> {
    const msgpack::object& operator()(const msgpack::object& o, prism::ObjectRef<T>& ref) const {
      if (o.type != msgpack::type::ARRAY || o.via.array.size != 3) throw msgpack::type_error();
      prism::ObjectId id;
      id.owner = o.via.array.ptr[0].as<int32_t>();
      id.index = o.via.array.ptr[1].as<uint32_t>();
      id.seq = o.via.array.ptr[2].as<uint64_t>();
      if (id.IsNil()) {
        ref = prism::ObjectRef<T>();
      } else {
        prism::internal::OnRefDeserialized(id);
        ref = prism::ObjectRef<T>::Adopt(id);
      }
      return o;
    }
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
