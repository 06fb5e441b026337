#pragma once
/// Monotonic time in nanoseconds and a spin-then-yield backoff for short waits.

#include <sched.h>

#include <chrono>
#include <cstdint>

namespace prism {

/// Nanoseconds on the steady clock.
inline int64_t NowNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// Eases a polling loop: a few CPU pause instructions first, then sched_yield so that a thread
/// the poller is waiting for gets the core when cores are oversubscribed. Not thread-safe.
class Backoff {
 public:
  void Pause() {
    if (count_ < kSpinsBeforeYield) {
      ++count_;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      sched_yield();
    }
  }
  void Reset() { count_ = 0; }

 private:
  static constexpr int kSpinsBeforeYield = 64;
  int count_ = 0;
};

}  // namespace prism
