#include "worker_pool.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>

#include "prism/common/clock.h"
#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

// The task a worker thread is running: what it holds (BlockedScope lends its CPU).
struct CurrentWork {
  WorkerPool* pool = nullptr;
  ResourceSet held;
};
thread_local CurrentWork g_current;

// The CPU part of a demand: what a task blocked in Get lends (Ray releases CPU, not GPUs). A
// placement-group task's CPU is its bundle's "CPU_group_..." resources.
ResourceSet CpuPart(const ResourceSet& demand) {
  ResourceSet out;
  for (const auto& [name, units] : demand.entries()) {
    if (name == "CPU" || name.rfind("CPU_group_", 0) == 0) out.SetUnits(name, units);
  }
  return out;
}

// At most this many idle workers poll at once; the others sleep.
constexpr int kMaxSpinners = 1;
// An idle worker re-checks for work at least this often while asleep.
constexpr int64_t kIdleSleepNs = 50'000'000;
// CPU-free work that waited this long with every thread busy gets a new thread.
constexpr int64_t kStarvationNs = 1'000'000;

}  // namespace

WorkerPool::WorkerPool(transport::Transport& transport, const Options& options)
    : transport_(transport),
      options_(options),
      total_(options.capacity),
      available_(options.capacity) {}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  std::lock_guard lock(mu_);
  // One thread per whole CPU (at least one when there is any CPU); more start on demand.
  int64_t n = (options_.capacity.Units("CPU") + kResourceUnit - 1) / kResourceUnit;
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

WorkerPool::ShapeQueue* WorkerPool::FittingLocked() {
  ShapeQueue* best = nullptr;
  for (ShapeQueue& shape : shapes_) {
    if (shape.items.empty() || !shape.demand.FitsIn(available_)) continue;
    if (best == nullptr || shape.items.front().seq < best->items.front().seq) best = &shape;
  }
  return best;
}

bool WorkerPool::KnownLocked(const std::string& name) const {
  return std::any_of(total_.entries().begin(), total_.entries().end(),
                     [&](const auto& e) { return e.first == name; });
}

void WorkerPool::AcquireLocked(const ResourceSet& demand) {
  for (const auto& [name, units] : demand.entries()) {
    if (units != 0 && KnownLocked(name)) available_.SetUnits(name, available_.Units(name) - units);
  }
  version_.fetch_add(1, std::memory_order_relaxed);
}

void WorkerPool::ReleaseLocked(const ResourceSet& demand) {
  // Resources removed meanwhile (a placement group's) are not given back.
  for (const auto& [name, units] : demand.entries()) {
    if (units != 0 && KnownLocked(name)) available_.SetUnits(name, available_.Units(name) + units);
  }
  version_.fetch_add(1, std::memory_order_relaxed);
}

void WorkerPool::UpdateDispatchableLocked() {
  dispatchable_.store(!unmetered_.empty() || FittingLocked() != nullptr, std::memory_order_seq_cst);
}

void WorkerPool::MaybeAddThreadLocked() {
  // Only for work that needs resources (and has them: a blocked task lent its CPU); work that
  // needs none gets threads from the monitor when it starves.
  bool metered = FittingLocked() != nullptr;
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

void WorkerPool::Enqueue(const ResourceSet& demand, Work work, uint64_t tag) {
  load_.fetch_add(1, std::memory_order_relaxed);
  bool unmetered = true;
  for (const auto& [name, units] : demand.entries()) unmetered &= units == 0;
  {
    std::lock_guard lock(mu_);
    Item item{demand, std::move(work), tag, next_seq_++};
    if (unmetered) {
      unmetered_.push_back(std::move(item));
    } else {
      ShapeQueue* queue = nullptr;
      for (ShapeQueue& shape : shapes_) {
        if (shape.demand == demand) {
          queue = &shape;
          break;
        }
      }
      if (queue == nullptr) {
        // Reuse an empty queue before growing: shapes come and go with the tasks.
        for (ShapeQueue& shape : shapes_) {
          if (shape.items.empty()) {
            queue = &shape;
            queue->demand = demand;
            break;
          }
        }
      }
      if (queue == nullptr) queue = &shapes_.emplace_back(ShapeQueue{demand, {}});
      queue->items.push_back(std::move(item));
      ++waiting_;
    }
    UpdateDispatchableLocked();
    MaybeAddThreadLocked();
  }
  NotifyWork();
  if (unmetered && monitor_asleep_.exchange(false, std::memory_order_seq_cst)) {
    monitor_event_.Notify();  // watch this work for starvation
  }
}

bool WorkerPool::Withdraw(uint64_t tag) {
  if (tag == 0) return false;
  std::lock_guard lock(mu_);
  for (ShapeQueue& shape : shapes_) {
    for (auto it = shape.items.begin(); it != shape.items.end(); ++it) {
      if (it->tag != tag) continue;
      shape.items.erase(it);
      --waiting_;
      load_.fetch_sub(1, std::memory_order_relaxed);
      UpdateDispatchableLocked();
      return true;
    }
  }
  return false;
}

std::vector<uint64_t> WorkerPool::WaitingTags(size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<uint64_t, uint64_t>> found;  // (seq, tag)
  for (const ShapeQueue& shape : shapes_) {
    for (const Item& item : shape.items) {
      if (item.tag != 0) found.emplace_back(item.seq, item.tag);
    }
  }
  std::sort(found.begin(), found.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < found.size() && i < max; ++i) out.push_back(found[i].second);
  return out;
}

int64_t WorkerPool::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

bool WorkerPool::TryReserve(const ResourceSet& amount) {
  std::lock_guard lock(mu_);
  if (!amount.FitsIn(available_)) return false;
  AcquireLocked(amount);
  UpdateDispatchableLocked();
  return true;
}

void WorkerPool::AddCapacity(const ResourceSet& extra) {
  {
    std::lock_guard lock(mu_);
    total_.Add(extra);
    available_.Add(extra);
    version_.fetch_add(1, std::memory_order_relaxed);
    UpdateDispatchableLocked();
    MaybeAddThreadLocked();
  }
  NotifyWork();
}

void WorkerPool::RemoveCapacity(const ResourceSet& extra) {
  std::lock_guard lock(mu_);
  total_.Subtract(extra);
  available_.Subtract(extra);
  // A resource whose total reached 0 is gone: what running work holds of it is dropped when it
  // returns (ReleaseLocked), so its entry leaves both sets now.
  for (const auto& [name, units] : extra.entries()) {
    if (total_.Units(name) <= 0) {
      total_.Erase(name);
      available_.Erase(name);
    }
  }
  version_.fetch_add(1, std::memory_order_relaxed);
  UpdateDispatchableLocked();
}

ResourceSet WorkerPool::Total() const {
  std::lock_guard lock(mu_);
  return total_;
}

ResourceSet WorkerPool::Available() const {
  std::lock_guard lock(mu_);
  return available_;
}

void WorkerPool::Snapshot(ResourceSet* total, ResourceSet* available, int64_t* waiting) const {
  std::lock_guard lock(mu_);
  *total = total_;
  *available = available_;
  *waiting = waiting_;
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
  } else if (ShapeQueue* shape = FittingLocked()) {
    *item = std::move(shape->items.front());
    shape->items.pop_front();
    --waiting_;
    AcquireLocked(item->demand);
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
      g_current = CurrentWork{this, std::move(item.demand)};
      item.work();
      ResourceSet returned = std::move(g_current.held);  // empty when the work kept it
      g_current = CurrentWork{};
      item.work = nullptr;  // what the work captured goes before the next item
      load_.fetch_sub(1, std::memory_order_relaxed);
      // Between tasks the worker receives what has arrived itself: with short tasks the rank
      // then needs no progress thread on its cores.
      transport_.TryProgress();
      {
        std::lock_guard lock(mu_);
        if (!returned.empty()) ReleaseLocked(returned);
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

void WorkerPool::KeepCurrentResources() {
  if (g_current.pool == this) g_current.held = ResourceSet();
}

void WorkerPool::Return(const ResourceSet& resources) {
  if (resources.empty()) return;
  {
    std::lock_guard lock(mu_);
    ReleaseLocked(resources);
    UpdateDispatchableLocked();
    MaybeAddThreadLocked();
  }
  NotifyWork();
}

WorkerPool::BlockedScope::BlockedScope() {
  if (g_current.pool == nullptr) return;
  ResourceSet cpu = CpuPart(g_current.held);
  if (cpu.empty()) return;
  pool_ = g_current.pool;
  lent_ = std::move(cpu);
  {
    std::lock_guard lock(pool_->mu_);
    pool_->ReleaseLocked(lent_);
    pool_->UpdateDispatchableLocked();
    pool_->MaybeAddThreadLocked();
  }
  pool_->NotifyWork();
}

WorkerPool::BlockedScope::~BlockedScope() {
  if (pool_ == nullptr) return;
  // Take the CPU back; this may overcommit until running work finishes (as in Ray).
  std::lock_guard lock(pool_->mu_);
  pool_->AcquireLocked(lent_);
  pool_->UpdateDispatchableLocked();
}

}  // namespace prism::runtime
