// The actor behind prism::Queue<T>, and the calls that Queue<T>'s template makes on it.
//
// Every Queue<T> operation calls a function of this file, so a program that uses queues links
// this object file, and with it the PRISM_REMOTE registration of the actor below.

#include "prism/runtime/queue.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace prism::internal {
namespace {

// Blocked Get/Put calls each hold one of the actor's threads while they wait.
constexpr int kMaxConcurrentCalls = 1000;

// What a queue operation came to.
enum class QueueStatus : int32_t {
  kOk = 0,
  kEmpty = 1,   // fewer items than asked for, after the timeout
  kFull = 2,    // no room for the items, after the timeout
  kClosed = 3,  // the queue is shutting down
};

// What the queue actor's Put and Get return.
struct QueueReply {
  int32_t status = static_cast<int32_t>(QueueStatus::kOk);
  std::vector<std::string> items;  // Get's items, oldest first
  MSGPACK_DEFINE(status, items)
};

}  // namespace

// The queue: serialized items in FIFO order. Its methods run concurrently (a threaded actor), so
// that callers blocked waiting for items or room do not hold up the others. Thread-safe.
class QueueActor {
 public:
  explicit QueueActor(int64_t maxsize) : maxsize_(maxsize) {}

  // Appends all `items` once they fit, waiting at most `timeout_ms` (< 0: without limit).
  QueueReply Put(std::vector<std::string> items, int64_t timeout_ms) {
    const auto count = static_cast<int64_t>(items.size());
    std::unique_lock lock(mu_);
    if (!WaitFor(not_full_, lock, timeout_ms, [&] { return closed_ || Fits(count); })) {
      return Reply(QueueStatus::kFull);
    }
    if (closed_) return Reply(QueueStatus::kClosed);
    for (std::string& item : items) items_.push_back(std::move(item));
    lock.unlock();
    not_empty_.notify_all();
    return Reply(QueueStatus::kOk);
  }

  // Removes the `count` oldest items once there are that many, waiting at most `timeout_ms`.
  QueueReply Get(int64_t count, int64_t timeout_ms) {
    std::unique_lock lock(mu_);
    if (!WaitFor(not_empty_, lock, timeout_ms, [&] { return closed_ || Count() >= count; })) {
      return Reply(QueueStatus::kEmpty);
    }
    if (closed_) return Reply(QueueStatus::kClosed);
    QueueReply reply = Reply(QueueStatus::kOk);
    reply.items.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) {
      reply.items.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    lock.unlock();
    not_full_.notify_all();
    return reply;
  }

  int64_t Size() {
    std::lock_guard lock(mu_);
    return Count();
  }

  bool Full() {
    std::lock_guard lock(mu_);
    return maxsize_ > 0 && Count() >= maxsize_;
  }

  // Wakes every blocked call (they return kClosed) before the actor is killed: a killed actor's
  // running calls would otherwise keep their threads for as long as they wait.
  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  static QueueReply Reply(QueueStatus status) {
    QueueReply reply;
    reply.status = static_cast<int32_t>(status);
    return reply;
  }

  // Waits on `cv` until `ready`, at most `timeout_ms` (< 0: without limit); returns ready().
  template <typename Ready>
  static bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                      int64_t timeout_ms, Ready ready) {
    if (timeout_ms < 0) {
      cv.wait(lock, ready);
      return true;
    }
    return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
  }

  int64_t Count() const { return static_cast<int64_t>(items_.size()); }
  bool Fits(int64_t count) const { return maxsize_ <= 0 || Count() + count <= maxsize_; }

  const int64_t maxsize_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::string> items_;
  bool closed_ = false;
};

namespace {

std::unique_ptr<QueueActor> NewQueueActor(int64_t maxsize) {
  return std::make_unique<QueueActor>(maxsize);
}

const QueueHandle& Checked(const QueueHandle& queue, const char* api) {
  if (queue.IsNil()) {
    throw PrismError(std::string(api) +
                     ": the queue handle is nil (default-constructed, or shut down)");
  }
  return queue;
}

// Throws the error `reply` reports, if any.
void ThrowUnlessOk(const QueueReply& reply, const char* api, int64_t count, int64_t timeout_ms) {
  const std::string waited =
      timeout_ms > 0 ? " after waiting " + std::to_string(timeout_ms) + " ms" : "";
  switch (static_cast<QueueStatus>(reply.status)) {
    case QueueStatus::kOk:
      return;
    case QueueStatus::kEmpty:
      throw QueueEmptyError(std::string(api) + ": fewer than " + std::to_string(count) +
                            " items in the queue" + waited);
    case QueueStatus::kFull:
      throw QueueFullError(std::string(api) + ": no room for " + std::to_string(count) +
                           " items in the queue" + waited);
    case QueueStatus::kClosed:
      break;
  }
  throw ActorDiedError(std::string(api) + ": the queue was shut down");
}

}  // namespace

QueueHandle CreateQueue(const QueueOptions& options) {
  auto creator = prism::Actor(NewQueueActor);
  creator.SetMaxConcurrency(kMaxConcurrentCalls)
      .SetResources(options.resources)
      .SetLifetime(options.lifetime)
      .SetGetIfExists(options.get_if_exists);
  if (!options.name.empty()) {
    if (options.name_space.empty()) {
      creator.SetName(options.name);
    } else {
      creator.SetName(options.name, options.name_space);
    }
  }
  return creator.Remote(options.maxsize);
}

std::optional<QueueHandle> LookupQueue(const std::string& name, const std::string& name_space) {
  return name_space.empty() ? GetActor<QueueActor>(name) : GetActor<QueueActor>(name, name_space);
}

void QueuePut(const QueueHandle& queue, std::vector<std::string> items, int64_t timeout_ms,
              const char* api) {
  const auto count = static_cast<int64_t>(items.size());
  auto reply =
      Checked(queue, api).Task(&QueueActor::Put).Remote(std::move(items), timeout_ms).Get();
  ThrowUnlessOk(*reply, api, count, timeout_ms);
}

std::vector<std::string> QueueGet(const QueueHandle& queue, int64_t count, int64_t timeout_ms,
                                  const char* api) {
  auto reply = Checked(queue, api).Task(&QueueActor::Get).Remote(count, timeout_ms).Get();
  ThrowUnlessOk(*reply, api, count, timeout_ms);
  return std::move(reply->items);
}

int64_t QueueSize(const QueueHandle& queue, const char* api) {
  return *Checked(queue, api).Task(&QueueActor::Size).Remote().Get();
}

bool QueueFull(const QueueHandle& queue, const char* api) {
  return *Checked(queue, api).Task(&QueueActor::Full).Remote().Get();
}

void ShutdownQueue(const QueueHandle& queue, const char* api) {
  try {
    Checked(queue, api).Task(&QueueActor::Close).Remote().Get();
  } catch (const ActorDiedError&) {
    // Already shut down through another handle (or its rank died): nothing left to wake.
  }
  queue.Kill();
}

std::string EncodeQueueItem(const ObjectBuffer& object) {
  std::span<const std::byte> metadata = object.metadata();
  std::span<const std::byte> data = object.data();
  std::string item;
  item.reserve(1 + metadata.size() + data.size());
  // Metadata is at most ObjectBuffer::kMaxMetadata (32) bytes: its length fits the first byte.
  item.push_back(static_cast<char>(metadata.size()));
  item.append(reinterpret_cast<const char*>(metadata.data()), metadata.size());
  item.append(reinterpret_cast<const char*>(data.data()), data.size());
  return item;
}

BufferPtr DecodeQueueItem(const std::string& item) {
  const size_t metadata_size = item.empty() ? 0 : static_cast<unsigned char>(item[0]);
  if (item.empty() || 1 + metadata_size > item.size()) {
    throw SerializationError("prism::Queue: an item's bytes are corrupt");
  }
  std::span<const std::byte> bytes = std::as_bytes(std::span(item));
  std::span<const std::byte> data = bytes.subspan(1 + metadata_size);
  BufferPtr object = AllocateObject(data.size(), bytes.subspan(1, metadata_size));
  if (!data.empty()) std::memcpy(object->mutable_data(), data.data(), data.size());
  return object;
}

}  // namespace prism::internal

PRISM_REMOTE(prism::internal::NewQueueActor, &prism::internal::QueueActor::Put,
             &prism::internal::QueueActor::Get, &prism::internal::QueueActor::Size,
             &prism::internal::QueueActor::Full, &prism::internal::QueueActor::Close);
