#include "memory_reporter.h"

#include <unistd.h>

#include <fstream>

#include "messages.h"
#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/common/wire.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("objects");
  return logger;
}

void WriteRankMemory(WireWriter& w, const RankMemory& m) {
  w.I32(m.rank);
  w.String(m.host);
  for (auto counter : kRankMemoryCounters) w.U64(m.*counter);
  for (auto seconds : kRankMemorySeconds) w.U64(static_cast<uint64_t>(m.*seconds * 1e9));
}

RankMemory ReadRankMemory(WireReader& r) {
  RankMemory m;
  m.rank = r.I32();
  m.host = r.String();
  for (auto counter : kRankMemoryCounters) m.*counter = r.U64();
  for (auto seconds : kRankMemorySeconds) m.*seconds = static_cast<double>(r.U64()) / 1e9;
  return m;
}

}  // namespace

uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages_total = 0;
  uint64_t pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

MemoryReporter::MemoryReporter(transport::Transport& transport, objstore::ObjectStore& store,
                               ObjectManager& objects, uint64_t memory_limit_bytes)
    : transport_(transport),
      store_(store),
      objects_(objects),
      memory_limit_bytes_(memory_limit_bytes) {}

void MemoryReporter::RegisterHandlers() {
  transport_.SetHandler(kMemoryRequest,
                        [this](Rank s, std::span<const std::byte> p) { OnRequest(s, p); });
  transport_.SetHandler(kMemoryReply,
                        [this](Rank s, std::span<const std::byte> p) { OnReply(s, p); });
}

RankMemory MemoryReporter::Local() const {
  RankMemory m;
  m.rank = transport_.rank();
  m.host = transport_.hostname(transport_.rank());
  objstore::ObjectStore::Stats s = store_.stats();
  m.store_capacity_bytes = s.capacity_bytes;
  m.store_primary_bytes = s.primary_bytes;
  m.store_secondary_bytes = s.secondary_bytes;
  m.store_objects = s.objects;
  m.spilled_bytes = s.spilled_bytes;
  m.spilled_objects = s.spilled_objects;
  m.spilled_bytes_total = s.spilled_bytes_total;
  m.spilled_objects_total = s.spilled_objects_total;
  m.restored_bytes_total = s.restored_bytes_total;
  m.restored_objects_total = s.restored_objects_total;
  m.spill_seconds_total = s.spill_seconds_total;
  m.restore_seconds_total = s.restore_seconds_total;
  m.evicted_total = s.evicted;
  ObjectManager::Stats o = objects_.stats();
  m.owned_objects = o.owned;
  m.owned_bytes = o.owned_bytes;
  m.local_reference = o.local_reference;
  m.used_by_pending_task = o.used_by_pending_task;
  m.captured_in_object = o.captured_in_object;
  m.borrowed = o.borrowed;
  m.with_borrowers = o.with_borrowers;
  m.pinned_out_of_band = o.pinned_out_of_band;
  m.rss_bytes = ResidentBytes();
  m.memory_limit_bytes = memory_limit_bytes_;
  return m;
}

MemorySummaryReport MemoryReporter::Collect(int64_t timeout_ms) {
  auto request = std::make_shared<Request>();
  uint64_t id;
  std::vector<Rank> asked;
  {
    std::lock_guard lock(mu_);
    id = next_request_++;
    requests_[id] = request;
  }
  std::vector<std::byte> payload;
  WireWriter w(payload);
  w.U64(id);
  Rank self = transport_.rank();
  for (Rank r = 0; r < transport_.size(); ++r) {
    if (r == self || !transport_.IsAlive(r)) continue;
    if (transport_.Send(r, kMemoryRequest, payload)) asked.push_back(r);
  }
  {
    std::lock_guard lock(mu_);
    request->expected = asked.size();
    request->replies[self] = Local();
  }
  int64_t deadline = timeout_ms < 0 ? -1 : NowNanos() + timeout_ms * 1'000'000;
  auto done = [&] {
    std::lock_guard lock(mu_);
    return request->replies.size() >= request->expected + 1;
  };
  transport_.WaitUntil(done, request->event, deadline, 100'000);
  MemorySummaryReport report;
  {
    std::lock_guard lock(mu_);
    requests_.erase(id);
    for (Rank r = 0; r < transport_.size(); ++r) {
      auto it = request->replies.find(r);
      if (it == request->replies.end()) {
        report.missing_ranks.push_back(r);
      } else {
        report.ranks.push_back(it->second);
      }
    }
  }
  return report;
}

void MemoryReporter::OnRequest(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t id = r.U64();
  if (!r.AtEnd()) {
    Log().warn("dropped a malformed memory request from rank {}", source);
    return;
  }
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(id);
  WriteRankMemory(w, Local());
  (void)transport_.Send(source, kMemoryReply, out);
}

void MemoryReporter::OnReply(Rank source, std::span<const std::byte> payload) {
  WireReader r(payload);
  uint64_t id = r.U64();
  RankMemory m = ReadRankMemory(r);
  if (!r.AtEnd() || m.rank != source) {
    Log().warn("dropped a malformed memory report from rank {}", source);
    return;
  }
  std::shared_ptr<Request> request;
  {
    std::lock_guard lock(mu_);
    auto it = requests_.find(id);
    if (it == requests_.end()) return;  // late: the caller gave up
    request = it->second;
    request->replies[source] = std::move(m);
  }
  request->event.Notify();
}

}  // namespace prism::runtime
