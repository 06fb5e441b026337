#include "resource_reporter.h"

#include <pthread.h>

#include "messages.h"
#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("scheduler");
  return logger;
}

}  // namespace

ResourceReporter::ResourceReporter(transport::Transport& transport, WorkerPool& workers,
                                   ClusterView& view, int64_t interval_ms, SpillFn spill)
    : transport_(transport),
      workers_(workers),
      view_(view),
      interval_ms_(std::max<int64_t>(1, interval_ms)),
      spill_(std::move(spill)) {}

ResourceReporter::~ResourceReporter() { Stop(); }

void ResourceReporter::RegisterHandlers() {
  transport_.SetHandler(kResourceReport, [this](Rank source, std::span<const std::byte> payload) {
    auto report = DecodeResourceReport(payload);
    if (!report) {
      Log().warn("dropped a resource report from rank {}: {}", source, report.error().ToString());
      return;
    }
    view_.OnReport(source, *report);
  });
}

ResourceReport ResourceReporter::Current() {
  ResourceReport report;
  workers_.Snapshot(&report.total, &report.available, &report.waiting);
  return report;
}

void ResourceReporter::Start() {
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void ResourceReporter::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  wake_.Notify();
  thread_.join();
}

void ResourceReporter::Loop(const std::stop_token& stop) {
  pthread_setname_np(pthread_self(), "prism-report");
  uint64_t sent_version = ~uint64_t{0};
  int64_t sent_waiting = -1;
  while (!stop.stop_requested()) {
    uint64_t version = workers_.version();
    int64_t waiting = workers_.waiting();
    if (version != sent_version || waiting != sent_waiting) {
      sent_version = version;
      sent_waiting = waiting;
      ResourceReport report = Current();
      report.seq = ++seq_;
      std::vector<std::byte> bytes = EncodeResourceReport(report);
      for (Rank r = 0; r < transport_.size(); ++r) {
        if (r == transport_.rank() || !transport_.IsAlive(r)) continue;
        (void)transport_.Send(r, kResourceReport,
                              bytes);  // a dead peer's failure is handled elsewhere
      }
    }
    if (waiting > 0 && spill_) spill_();
    wake_.Sleep([&] { return stop.stop_requested(); }, interval_ms_ * 1'000'000);
  }
}

}  // namespace prism::runtime
