#pragma once
/// Queue<T>: a FIFO queue that tasks and actors on any rank share (Ray's ray.util.queue.Queue,
/// ACT-34).
///
///   prism::Queue<int> queue(/*maxsize=*/100);      // 0: unbounded
///   prism::Task(Producer).Remote(queue, 1000);    // a copy of the handle goes to the task
///   int first = queue.Get();                      // waits for an item
///   int next = queue.Get(/*block=*/true, /*timeout_ms=*/500);  // QueueEmptyError after 500 ms
///   queue.PutNowait(7);                           // QueueFullError when full
///   queue.Shutdown();
///
///   void Producer(prism::Queue<int> queue, int n) { for (int i = 0; i < n; ++i) queue.Put(i); }
///   PRISM_REMOTE(Producer);
///
/// The items live in an actor (one per queue, created with the queue) as their serialized bytes;
/// every operation is one call of that actor, and Put returns once the item is in the queue, so
/// the items of one producer come out in the order it put them. A Queue<T> is a handle: copies,
/// and copies passed to tasks and actors or stored in objects, all name the same queue. Blocked
/// Get/Put calls wait inside the actor, each on one of its threads (up to 1000 at once); callers
/// waiting at the same time are served in no particular order.
/// Thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "prism/runtime/actor.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/serializer.h"

namespace prism {

/// Get on an empty queue without waiting, or after its timeout (Ray's queue.Empty).
class QueueEmptyError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// Put on a full queue without waiting, or after its timeout (Ray's queue.Full).
class QueueFullError : public PrismError {
 public:
  using PrismError::PrismError;
};

/// How to create a queue (Ray's Queue(maxsize, actor_options)).
///
///   prism::Queue<Job> jobs(prism::QueueOptions{.maxsize = 64, .name = "jobs"});
///
/// (Every member has an initializer so that designated initializers compile under -Wextra.)
struct QueueOptions {
  /// Most items the queue holds; 0 or less: unbounded.
  int64_t maxsize = 0;
  /// Names the queue's actor so that Queue<T>::Lookup finds it; empty: anonymous.
  std::string name{};
  /// The name's namespace; empty: the job's.
  std::string name_space{};
  /// With a name: use the live queue of that name (its own maxsize) instead of failing.
  bool get_if_exists = false;
  ActorLifetime lifetime = ActorLifetime::kNonDetached;
  /// Resources that place the queue's actor (it holds none while it lives, as every actor).
  std::unordered_map<std::string, double> resources{};
};

namespace internal {

/// The actor behind every Queue<T> (defined in queue.cc).
class QueueActor;
using QueueHandle = ActorHandle<QueueActor>;

/// The Queue<T> operations on serialized items. Every function throws QueueEmptyError,
/// QueueFullError, or ActorDiedError after Shutdown; `api` names the caller in messages.
QueueHandle CreateQueue(const QueueOptions& options);
std::optional<QueueHandle> LookupQueue(const std::string& name, const std::string& name_space);
/// Adds all `items` or none, once they fit (timeout_ms < 0: waits without limit; 0: not at all).
void QueuePut(const QueueHandle& queue, std::vector<std::string> items, int64_t timeout_ms,
              const char* api);
/// Takes `count` items once that many are there (timeout_ms as QueuePut).
std::vector<std::string> QueueGet(const QueueHandle& queue, int64_t count, int64_t timeout_ms,
                                  const char* api);
int64_t QueueSize(const QueueHandle& queue, const char* api);
bool QueueFull(const QueueHandle& queue, const char* api);
/// Wakes the queue's blocked callers (they throw ActorDiedError), then kills its actor.
void ShutdownQueue(const QueueHandle& queue, const char* api);

/// An item as the queue stores it: the object's metadata, then its data.
std::string EncodeQueueItem(const ObjectBuffer& object);
/// The object an item encodes; throws SerializationError when the bytes are not an item.
BufferPtr DecodeQueueItem(const std::string& item);

}  // namespace internal

/// A handle to a distributed FIFO queue of T (any serializable type).
template <typename T>
class Queue {
 public:
  /// A handle naming no queue (what deserialization fills in); create one with Queue(maxsize).
  Queue() = default;
  /// Creates a queue holding at most `maxsize` items (0 or less: unbounded).
  explicit Queue(int64_t maxsize) : Queue(QueueOptions{.maxsize = maxsize}) {}
  /// Creates a queue as `options` say. Throws PrismError when its name is taken.
  explicit Queue(const QueueOptions& options) : actor_(internal::CreateQueue(options)) {}

  /// The live queue named `name` (QueueOptions::name) in `name_space` (empty: the job's), or
  /// nullopt. Reading its items as another type than they were put as throws SerializationError.
  static std::optional<Queue> Lookup(const std::string& name, const std::string& name_space = "") {
    std::optional<internal::QueueHandle> actor = internal::LookupQueue(name, name_space);
    if (!actor) return std::nullopt;
    Queue queue;
    queue.actor_ = std::move(*actor);
    return queue;
  }

  /// Appends `item`, waiting for room while the queue is full: without limit, or `timeout_ms`,
  /// or (block = false) not at all; then throws QueueFullError.
  void Put(const T& item, bool block = true, int64_t timeout_ms = -1) const {
    internal::QueuePut(actor_, {Encode(item)}, block ? timeout_ms : 0, "prism::Queue::Put");
  }
  /// Put(item, /*block=*/false).
  void PutNowait(const T& item) const { Put(item, false); }
  /// Appends all `items` at once, or none (QueueFullError) when they do not all fit.
  void PutNowaitBatch(const std::vector<T>& items) const {
    std::vector<std::string> encoded;
    encoded.reserve(items.size());
    for (const T& item : items) encoded.push_back(Encode(item));
    internal::QueuePut(actor_, std::move(encoded), 0, "prism::Queue::PutNowaitBatch");
  }

  /// Removes and returns the oldest item, waiting for one while the queue is empty: without
  /// limit, or `timeout_ms`, or (block = false) not at all; then throws QueueEmptyError.
  T Get(bool block = true, int64_t timeout_ms = -1) const {
    return Decode(
        internal::QueueGet(actor_, 1, block ? timeout_ms : 0, "prism::Queue::Get").front());
  }
  /// Get(/*block=*/false).
  T GetNowait() const { return Get(false); }
  /// Removes and returns the `num_items` oldest items, or none (QueueEmptyError) when there are
  /// fewer.
  std::vector<T> GetNowaitBatch(int64_t num_items) const {
    if (num_items < 0) throw PrismError("prism::Queue::GetNowaitBatch: num_items is negative");
    std::vector<T> items;
    items.reserve(static_cast<size_t>(num_items));
    for (const std::string& item :
         internal::QueueGet(actor_, num_items, 0, "prism::Queue::GetNowaitBatch")) {
      items.push_back(Decode(item));
    }
    return items;
  }

  /// Items in the queue now.
  int64_t Size() const { return internal::QueueSize(actor_, "prism::Queue::Size"); }
  /// Size() (Ray's qsize spelling).
  int64_t QSize() const { return Size(); }
  bool Empty() const { return Size() == 0; }
  /// True when the queue is bounded and holds maxsize items.
  bool Full() const { return internal::QueueFull(actor_, "prism::Queue::Full"); }

  /// Ends the queue: calls blocked in Get/Put, and every later call through any copy of this
  /// handle, throw ActorDiedError. This handle becomes nil. As after ActorHandle::Kill, the name
  /// of a named queue is released shortly after this returns, not before.
  void Shutdown() {
    internal::ShutdownQueue(actor_, "prism::Queue::Shutdown");
    actor_ = {};
  }

  /// The queue's actor.
  const internal::QueueHandle& actor() const { return actor_; }
  bool IsNil() const { return actor_.IsNil(); }

  // Serialized as its actor handle: a copy passed to a task or an actor names the same queue.
  MSGPACK_DEFINE(actor_)

 private:
  static std::string Encode(const T& item) {
    return internal::EncodeQueueItem(*internal::Serialize<T>(item));
  }
  static T Decode(const std::string& item) {
    return internal::Deserialize<T>(*internal::DecodeQueueItem(item));
  }

  internal::QueueHandle actor_;
};

}  // namespace prism
