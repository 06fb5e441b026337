#include "memory_monitor.h"

#include <fmt/format.h>
#include <pthread.h>

#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/runtime/errors.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("memory");
  return logger;
}

thread_local MemoryMonitor::Task* g_task = nullptr;

std::string MiB(uint64_t bytes) {
  return fmt::format("{:.0f} MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

MemoryMonitor::MemoryMonitor(Options options, std::function<void()> on_relief)
    : options_(std::move(options)), on_relief_(std::move(on_relief)) {}

MemoryMonitor::~MemoryMonitor() { Stop(); }

void MemoryMonitor::Start() {
  if (!enabled() || thread_.joinable()) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "prism-mem-mon");
    Run();
  });
}

void MemoryMonitor::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (over_.exchange(false) && on_relief_) on_relief_();  // nothing stays parked
}

void MemoryMonitor::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    Sample();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(options_.refresh_ms), [this] { return stop_; });
  }
}

void MemoryMonitor::Sample() {
  uint64_t usage = options_.usage();
  auto limit = static_cast<double>(options_.limit_bytes);
  bool over = static_cast<double>(usage) >= options_.threshold * limit;
  std::shared_ptr<Task> chosen;
  {
    std::lock_guard lock(mu_);
    ++stats_.samples;
    stats_.peak_usage_bytes = std::max(stats_.peak_usage_bytes, usage);
    if (over) ++stats_.over_samples;
    if (victim_ && victim_.use_count() == 1) victim_.reset();  // it ended
    if (over && !victim_ && !running_.empty()) {
      victim_ = running_.back();  // the newest
      chosen = victim_;
      ++stats_.tasks_failed;
    }
  }
  if (over && !over_.exchange(true, std::memory_order_acq_rel)) {
    Log().warn(
        "memory use {} is above {:.0f}% of this rank's limit {}: admitting no new task until it "
        "drops (memory_usage_threshold, memory_limit, memory_monitor_refresh_ms)",
        MiB(usage), options_.threshold * 100, MiB(options_.limit_bytes));
  }
  if (chosen) {
    chosen->reason = fmt::format(
        "{} ({}) was stopped by the memory monitor: the rank used {} of its {} limit "
        "(threshold {:.0f}%), and it was the newest running task. Use less memory per task, limit "
        "concurrency with resources, or raise memory_usage_threshold / memory_limit",
        chosen->id.ToString(), chosen->function, MiB(usage), MiB(options_.limit_bytes),
        options_.threshold * 100);
    chosen->chosen.store(true, std::memory_order_release);
    Log().warn("{}", chosen->reason);
  }
  if (!over && over_.exchange(false, std::memory_order_acq_rel)) {
    Log().info("memory use {} is below the threshold again: admitting tasks", MiB(usage));
    if (on_relief_) on_relief_();
  }
}

MemoryMonitor::TaskScope::TaskScope(MemoryMonitor* monitor, const TaskId& id,
                                    const std::string& function)
    : monitor_(monitor), previous_(g_task) {
  if (monitor_ == nullptr || !monitor_->enabled()) return;
  task_ = std::make_shared<Task>();
  task_->id = id;
  task_->function = function;
  task_->started_ns = NowNanos();
  {
    std::lock_guard lock(monitor_->mu_);
    position_ = monitor_->running_.insert(monitor_->running_.end(), task_);
  }
  g_task = task_.get();
}

MemoryMonitor::TaskScope::~TaskScope() {
  if (!task_) return;
  g_task = previous_;
  std::lock_guard lock(monitor_->mu_);
  monitor_->running_.erase(position_);
}

void MemoryMonitor::CheckCurrentTask() {
  Task* task = g_task;
  if (task != nullptr && task->chosen.load(std::memory_order_acquire))
    throw OutOfMemoryError(task->reason);
}

MemoryMonitor::Stats MemoryMonitor::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace prism::runtime
