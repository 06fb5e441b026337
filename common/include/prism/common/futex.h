#pragma once
/// Timed sleep on a 32-bit atomic (Linux futex), for waits that std::atomic::wait cannot bound.
///
///   std::atomic<uint32_t> epoch{0};
///   uint32_t seen = epoch.load();
///   while (!ready()) { FutexWait(epoch, seen, 1'000'000); seen = epoch.load(); }   // waiter
///   epoch.fetch_add(1); FutexWakeAll(epoch);                                        // producer

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace prism {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "futex needs a plain 32-bit word");

/// Sleeps while `word == expected`, at most `timeout_ns` (negative: no limit). Spurious wakeups
/// happen; callers re-check their condition.
inline void FutexWait(std::atomic<uint32_t>& word, uint32_t expected, int64_t timeout_ns) {
  timespec ts{};
  timespec* tsp = nullptr;
  if (timeout_ns >= 0) {
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1'000'000'000);
    tsp = &ts;
  }
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, tsp, nullptr,
          0);
}

/// Wakes every thread sleeping on `word`.
inline void FutexWakeAll(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT32_MAX, nullptr,
          nullptr, 0);
}

/// Wakes at most one thread sleeping on `word`.
inline void FutexWakeOne(std::atomic<uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
          0);
}

}  // namespace prism

namespace prism {

/// A wakeup channel for one waiter condition: the producer makes the condition true, then
/// Notify(); a sleeping waiter (see Transport::WaitUntil) wakes. Notify costs no system call when
/// nobody sleeps. Thread-safe.
///
/// Lifetime: a waiter may return as soon as the condition holds, while the producer is still
/// inside Notify(). So the Event must outlive both: keep it in state shared by waiter and
/// producer (e.g. a std::shared_ptr the producer's callback holds), never on the waiter's stack.
class Event {
 public:
  void Notify() {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) FutexWakeAll(epoch_);
  }
  /// Wakes at most one sleeper (for work that one thread can take).
  void NotifyOne() {
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) FutexWakeOne(epoch_);
  }
  /// Sleeps until Notify() or `timeout_ns`, unless `ready()` already holds.
  template <typename Ready>
  void Sleep(const Ready& ready, int64_t timeout_ns) {
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    uint32_t seen = epoch_.load(std::memory_order_seq_cst);
    if (!ready()) FutexWait(epoch_, seen, timeout_ns);
    sleepers_.fetch_sub(1, std::memory_order_seq_cst);
  }

 private:
  std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> sleepers_{0};
};

}  // namespace prism
