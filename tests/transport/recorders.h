#pragma once
// Recorders for the multi-rank transport tests: what completions and message handlers saw, for a
// test thread to wait on (with Transport::WaitUntil and the recorder's Event) and check.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "prism/common/futex.h"
#include "prism/transport/transport.h"

namespace prism::transport {

// Completions of asynchronous operations, counted. Callbacks hold it through a shared_ptr: the
// waiter may return as soon as it sees the last result, while that callback is still inside
// Event::Notify(). Thread-safe.
struct Completions {
  std::mutex mu;
  std::map<int, ErrorCode> codes;  // by the caller's key
  std::atomic<int> count{0};
  Event event;

  static Completion Record(const std::shared_ptr<Completions>& c, int key = 0) {
    return [c, key](Status s) {
      {
        std::lock_guard lock(c->mu);
        c->codes[key] = s.code();
      }
      c->count.fetch_add(1);
      c->event.Notify();
    };
  }
  ErrorCode code(int key = 0) {
    std::lock_guard lock(mu);
    auto it = codes.find(key);
    return it == codes.end() ? ErrorCode::kInternal : it->second;
  }
  int failures() {
    std::lock_guard lock(mu);
    int n = 0;
    for (const auto& [key, result] : codes) n += result == ErrorCode::kOk ? 0 : 1;
    return n;
  }
};

// One control message as its handler saw it.
struct Received {
  Rank source = kNoRank;
  std::vector<std::byte> payload;
};

// Control messages of one type, as the handler saw them. Thread-safe.
class Inbox {
 public:
  void Push(Rank source, std::span<const std::byte> payload) {
    {
      std::lock_guard lock(mu_);
      items_.push_back(Received{source, std::vector<std::byte>(payload.begin(), payload.end())});
    }
    count_.fetch_add(1);
    event_.Notify();
  }
  size_t count() const { return count_.load(); }
  std::vector<Received> Take() {
    std::lock_guard lock(mu_);
    std::vector<Received> out;
    out.swap(items_);
    count_.store(0);
    return out;
  }
  Event& event() { return event_; }

 private:
  std::mutex mu_;
  std::vector<Received> items_;
  std::atomic<size_t> count_{0};
  Event event_;
};

}  // namespace prism::transport
