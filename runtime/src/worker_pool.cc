#include "worker_pool.h"

#include <pthread.h>
#include <sched.h>

#include <cstring>

#include "prism/common/clock.h"
#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

// The task a worker thread is running: what BlockedScope lends.
struct CurrentWork {
  WorkerPool* pool = nullptr;
  int64_t cpu_units = 0;
};
thread_local CurrentWork g_current;

// At most this many idle workers poll at once; the others sleep.
constexpr int kMaxSpinners = 1;
// An idle worker re-checks for work at least this often while asleep.
constexpr int64_t kIdleSleepNs = 50'000'000;
// CPU-free work that waited this long with every thread busy gets a new thread.
constexpr int64_t kStarvationNs = 1'000'000;

}  // namespace

WorkerPool::WorkerPool(transport::Transport& transport, const Options& options)
    : transport_(transport), options_(options), available_units_(options.cpu_units) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  std::lock_guard lock(mu_);
  // One thread per whole CPU (at least one when there is any CPU); more start on demand.
  int64_t n = (options_.cpu_units + 9999) / 10000;
  for (int64_t i = 0; i < n; ++i) AddThreadLocked();
  monitor_ = std::jthread([this](std::stop_token stop) { MonitorLoop(stop); });
}

void WorkerPool::MonitorLoop(const std::stop_token& stop) {
  pthread_setname_np(pthread_self(), "prism-pool-mon");
  uint64_t seen = 0;
  while (!stop.stop_requested()) {
    bool pending = false;
    {
      std::lock_guard lock(mu_);
      pending = !unmetered_.empty();
      // CPU-free work (actor calls) that no thread took for a whole period: every thread is
      // busy or blocked in user code (a threaded actor waiting on another call). Starting a
      // thread at once for such work instead would also start one whenever the only worker is
      // just finishing its previous call, and the extra threads cost wake-ups ever after.
      if (pending && !stopping_ && idle_threads_ == 0 && unmetered_taken_ == seen) {
        if (static_cast<int64_t>(threads_.size()) < options_.max_threads) AddThreadLocked();
      }
      seen = unmetered_taken_;
      monitor_asleep_.store(!pending, std::memory_order_seq_cst);
    }
    if (pending) NotifyWork();
    monitor_event_.Sleep([&] { return stop.stop_requested(); },
                         pending ? kStarvationNs : kIdleSleepNs);
  }
}

void WorkerPool::AddThreadLocked() {
  // Counted idle from now on, not from when it first runs: otherwise work queued before it runs
  // would start yet another thread.
  ++idle_threads_;
  size_t index = threads_.size();
  const std::vector<int>& cpus =
      index < options_.thread_cpus.size() ? options_.thread_cpus[index] : options_.spare_cpus;
  threads_.emplace_back([this, &cpus](std::stop_token stop) { WorkerLoop(stop, cpus); });
}

void WorkerPool::Stop() {
  std::vector<std::jthread> threads;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    threads.swap(threads_);
  }
  for (auto& t : threads) t.request_stop();
  work_event_.Notify();  // all of them
  for (auto& t : threads) t.join();
  if (monitor_.joinable()) {
    monitor_.request_stop();
    monitor_event_.Notify();
    monitor_.join();
  }
}

int64_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return static_cast<int64_t>(threads_.size());
}

void WorkerPool::UpdateDispatchableLocked() {
  dispatchable_.store(
      !unmetered_.empty() || (!queue_.empty() && queue_.front().cpu_units <= available_units_),
      std::memory_order_seq_cst);
}

void WorkerPool::MaybeAddThreadLocked() {
  // Only for work that needs CPU (and has it: a blocked task lent its CPU); CPU-free work gets
  // threads from the monitor when it starves.
  bool metered = !queue_.empty() && queue_.front().cpu_units <= available_units_;
  if (stopping_ || !metered || idle_threads_ > 0) return;
  if (static_cast<int64_t>(threads_.size()) >= options_.max_threads) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      log::Get("runtime").warn(
          "worker pool reached max_worker_threads = {}; work waits for a free thread",
          options_.max_threads);
    }
    return;
  }
  AddThreadLocked();
}

void WorkerPool::Enqueue(int64_t cpu_units, Work work) {
  load_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    (cpu_units == 0 ? unmetered_ : queue_).push_back(Item{cpu_units, std::move(work)});
    UpdateDispatchableLocked();
    MaybeAddThreadLocked();
  }
  NotifyWork();
  if (cpu_units == 0 && monitor_asleep_.exchange(false, std::memory_order_seq_cst)) {
    monitor_event_.Notify();  // watch this work for starvation
  }
}

void WorkerPool::NotifyWork() {
  // A polling worker will see the work; waking a sleeper would only cost a system call and a
  // context switch. (Dispatchable() was published before this seq_cst load; a poller that stops
  // after it re-checks Dispatchable() before it sleeps.)
  if (spinners_.load(std::memory_order_seq_cst) > 0) return;
  work_event_.NotifyOne();
}

bool WorkerPool::TakeWork(Item* item) {
  std::lock_guard lock(mu_);
  if (!unmetered_.empty()) {
    *item = std::move(unmetered_.front());
    unmetered_.pop_front();
    ++unmetered_taken_;
  } else if (!queue_.empty() && queue_.front().cpu_units <= available_units_) {
    *item = std::move(queue_.front());
    queue_.pop_front();
    available_units_ -= item->cpu_units;
  } else {
    return false;
  }
  UpdateDispatchableLocked();
  return true;
}

void WorkerPool::WorkerLoop(const std::stop_token& stop, const std::vector<int>& cpus) {
  pthread_setname_np(pthread_self(), "prism-worker");
  if (!cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int pu : cpus) {
      if (pu >= 0 && pu < CPU_SETSIZE) CPU_SET(pu, &set);
    }
    if (int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0) {
      log::Get("runtime").warn("cannot pin a worker thread: {}", std::strerror(rc));
    }
  }
  Backoff backoff;
  while (!stop.stop_requested()) {
    Item item;
    if (TakeWork(&item)) {
      {
        std::lock_guard lock(mu_);
        --idle_threads_;
        // Work left over that this thread cannot take: make sure someone can.
        MaybeAddThreadLocked();
      }
      if (Dispatchable()) NotifyWork();
      g_current = CurrentWork{this, item.cpu_units};
      item.work();
      int64_t returned = g_current.cpu_units;  // 0 when the work kept its CPU
      g_current = CurrentWork{};
      item.work = nullptr;  // what the work captured goes before the next item
      load_.fetch_sub(1, std::memory_order_relaxed);
      // Between tasks the worker receives what has arrived itself: with short tasks the rank
      // then needs no progress thread on its cores.
      transport_.TryProgress();
      {
        std::lock_guard lock(mu_);
        available_units_ += returned;
        ++idle_threads_;
        UpdateDispatchableLocked();
      }
      if (Dispatchable()) NotifyWork();
      backoff.Reset();
      continue;
    }
    // Idle: one worker at a time polls the transport (it may receive the next task itself);
    // the others sleep until work arrives.
    if (spinners_.fetch_add(1) < kMaxSpinners) {
      int64_t until = NowNanos() + options_.spin_ns;
      while (!stop.stop_requested() && !Dispatchable() && NowNanos() < until) {
        if (!transport_.TryProgress()) backoff.Pause();
      }
      spinners_.fetch_sub(1);
      if (Dispatchable()) continue;
      transport_.ReleasePolling();  // the progress thread takes over at once
    } else {
      spinners_.fetch_sub(1);
    }
    work_event_.Sleep([&] { return Dispatchable() || stop.stop_requested(); }, kIdleSleepNs);
  }
  std::lock_guard lock(mu_);
  --idle_threads_;
}

void WorkerPool::KeepCurrentUnits() {
  if (g_current.pool == this) g_current.cpu_units = 0;
}

void WorkerPool::ReturnUnits(int64_t cpu_units) {
  if (cpu_units == 0) return;
  {
    std::lock_guard lock(mu_);
    available_units_ += cpu_units;
    UpdateDispatchableLocked();
    MaybeAddThreadLocked();
  }
  NotifyWork();
}

WorkerPool::BlockedScope::BlockedScope() {
  if (g_current.pool == nullptr || g_current.cpu_units == 0) return;
  pool_ = g_current.pool;
  units_ = g_current.cpu_units;
  {
    std::lock_guard lock(pool_->mu_);
    pool_->available_units_ += units_;
    pool_->UpdateDispatchableLocked();
    pool_->MaybeAddThreadLocked();
  }
  pool_->NotifyWork();
}

WorkerPool::BlockedScope::~BlockedScope() {
  if (pool_ == nullptr) return;
  // Take the CPU back; this may overcommit until running work finishes (as in Ray).
  std::lock_guard lock(pool_->mu_);
  pool_->available_units_ -= units_;
  pool_->UpdateDispatchableLocked();
}

}  // namespace prism::runtime
