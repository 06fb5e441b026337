// Progress: the polling token, the progress thread and the spin-then-sleep wait.
//
// Whoever waits polls (no hand-off between threads on the fast path). The progress thread
// polls only while nobody else has for kTakeoverNs, and sleeps on the worker's event fd once
// the worker has been idle for progress_spin_us.

#include <pthread.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "prism/common/clock.h"
#include "prism/common/futex.h"
#include "transport_impl.h"

namespace prism::transport {
namespace {

// How long another thread's polling keeps the progress thread out of the way.
constexpr int64_t kTakeoverNs = 200'000;
// Longest sleep on the event fd: bounds how late the thread notices Stop() if a wakeup is lost.
constexpr int kMaxSleepMs = 100;
// Largest slice of a futex sleep in WaitUntil, so a lost wakeup costs at most this.
constexpr int64_t kWaitSliceNs = 5'000'000;

}  // namespace

bool Transport::Impl::TryProgress(bool external) {
  if (!AcquireToken()) return false;
  bool any = outbox_pending.load(std::memory_order_acquire);
  DrainOutbox();
  // Drain what is ready, but bound the work so that a flood cannot starve the caller.
  for (int i = 0; i < 64; ++i) {
    if (ucp_worker_progress(worker) == 0) break;
    any = true;
  }
  if (loopback_pending.load(std::memory_order_acquire)) {
    DrainLoopback();
    any = true;
  }
  ReleaseToken();
  // Progressing consumes the events that the sleeping progress thread armed for, so it would not
  // wake for later ones: wake it to re-arm (once; it then stays out while we poll).
  if (external) WakeProgressThread();  // only when it sleeps
  return any;
}

void Transport::Impl::WakeProgressThread() {
  if (progress_thread_sleeping.load(std::memory_order_seq_cst)) {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(event_fd, &one, sizeof one);
  }
}

void Transport::Impl::ReleasePolling() {
  last_external_poll_ns.store(0, std::memory_order_relaxed);
  takeover_event.Notify();
}

void Transport::Impl::ProgressLoop(const std::stop_token& stop) {
  pthread_setname_np(pthread_self(), "prism-progress");
  int64_t spin_ns = options.progress_spin_us * 1000;
  int64_t last_event = NowNanos();
  Backoff backoff;
  while (!stop.stop_requested()) {
    int64_t now = NowNanos();
    int64_t external = last_external_poll_ns.load(std::memory_order_relaxed);
    if (now - external < kTakeoverNs) {
      // Another thread polls: stay away until it stops (it says so: ReleasePolling) or goes
      // quiet for kTakeoverNs.
      takeover_event.Sleep(
          [&] { return last_external_poll_ns.load(std::memory_order_relaxed) == 0; }, kTakeoverNs);
      continue;
    }
    if (TryProgress(/*external=*/false)) {
      last_event = now;
      backoff.Reset();
      continue;
    }
    if (now - last_event < spin_ns) {
      backoff.Pause();
      continue;
    }
    // Idle: arm the worker's event fd and sleep until UCX, a loopback message or Stop wakes us.
    // `sleeping` is set before arming: a thread that progresses after the arm sees it and wakes
    // us (TryProgress), so no event is consumed behind our back.
    if (!AcquireToken()) continue;
    progress_thread_sleeping.store(true, std::memory_order_seq_cst);
    ucs_status_t armed = outbox_pending.load() ? UCS_ERR_BUSY : ucp_worker_arm(worker);
    ReleaseToken();
    if (armed == UCS_ERR_BUSY) {
      progress_thread_sleeping.store(false, std::memory_order_relaxed);
      continue;
    }
    if (!loopback_pending.load(std::memory_order_seq_cst) && !stop.stop_requested()) {
      epoll_event events[2];
      int n = epoll_wait(epoll_fd, events, 2, kMaxSleepMs);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.fd == event_fd) {
          uint64_t count;
          [[maybe_unused]] ssize_t r = read(event_fd, &count, sizeof count);
        }
      }
    }
    progress_thread_sleeping.store(false, std::memory_order_relaxed);
    last_event = NowNanos();
    backoff.Reset();
  }
}

bool Transport::Impl::WaitUntil(const std::function<bool()>& ready, Event& event,
                                int64_t deadline_ns, int64_t spin_ns) {
  int64_t start = NowNanos();
  Backoff backoff;
  while (true) {
    if (ready()) return true;
    int64_t now = NowNanos();
    if (deadline_ns >= 0 && now >= deadline_ns) return ready();
    if (stopped) return ready();  // nothing will make progress any more
    if (now - start < spin_ns && started) {
      last_external_poll_ns.store(now, std::memory_order_relaxed);
      if (TryProgress(/*external=*/true)) {
        backoff.Reset();
      } else {
        backoff.Pause();
      }
      continue;
    }
    // Spun long enough: sleep and let the progress thread poll for us.
    if (!started) {
      // No progress thread yet (before Start): keep polling ourselves.
      TryProgress(/*external=*/false);
      backoff.Pause();
      continue;
    }
    ReleasePolling();
    int64_t slice = kWaitSliceNs;
    if (deadline_ns >= 0) slice = std::min(slice, deadline_ns - now);
    event.Sleep(ready, slice);
  }
}

}  // namespace prism::transport
