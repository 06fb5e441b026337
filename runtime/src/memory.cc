// prism::MemorySummary and its report's printing.
#include "prism/runtime/memory.h"

#include <fmt/format.h>

#include "core_runtime.h"
#include "memory_reporter.h"
#include "prism/runtime/errors.h"

namespace prism {
namespace {

std::string Bytes(uint64_t b) {
  if (b >= (uint64_t{1} << 30))
    return fmt::format("{:.2f} GiB", static_cast<double>(b) / (1 << 30));
  if (b >= (uint64_t{1} << 20))
    return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1 << 20));
  if (b >= (uint64_t{1} << 10))
    return fmt::format("{:.1f} KiB", static_cast<double>(b) / (1 << 10));
  return fmt::format("{} B", b);
}

std::string Throughput(uint64_t bytes, double seconds) {
  if (seconds <= 0) return "-";
  return fmt::format("{:.0f} MiB/s", static_cast<double>(bytes) / (1 << 20) / seconds);
}

}  // namespace

RankMemory MemorySummaryReport::Total() const {
  RankMemory t;
  for (const RankMemory& m : ranks) {
    for (auto counter : runtime::kRankMemoryCounters) t.*counter += m.*counter;
    for (auto seconds : runtime::kRankMemorySeconds) t.*seconds += m.*seconds;
  }
  return t;
}

std::string MemorySummaryReport::ToString() const {
  std::string out;
  out +=
      fmt::format("{:>4} {:<16} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11}\n",
                  "rank", "host", "store used", "capacity", "spilled", "owned", "LOCAL_REF",
                  "PENDING", "CAPTURED", "BORROWED", "objects", "rss");
  auto row = [&](const RankMemory& m, const std::string& rank, const std::string& host) {
    out += fmt::format(
        "{:>4} {:<16} {:>11} {:>11} {:>11} {:>11} {:>8} {:>8} {:>8} {:>8} {:>8} {:>11}\n", rank,
        host.substr(0, 16), Bytes(m.store_primary_bytes + m.store_secondary_bytes),
        Bytes(m.store_capacity_bytes), Bytes(m.spilled_bytes), Bytes(m.owned_bytes),
        m.local_reference, m.used_by_pending_task, m.captured_in_object, m.borrowed,
        m.store_objects, Bytes(m.rss_bytes));
  };
  for (const RankMemory& m : ranks) row(m, std::to_string(m.rank), m.host);
  RankMemory t = Total();
  row(t, "all", "");
  uint64_t used = t.store_primary_bytes + t.store_secondary_bytes;
  double percent = t.store_capacity_bytes == 0 ? 0.0
                                               : 100.0 * static_cast<double>(used) /
                                                     static_cast<double>(t.store_capacity_bytes);
  out += fmt::format("--- Aggregate object store stats across all ranks ---\n");
  out += fmt::format(
      "Store memory used: {} / {} ({:.2f}%), {} objects; {} secondary copies evicted\n",
      Bytes(used), Bytes(t.store_capacity_bytes), percent, t.store_objects, t.evicted_total);
  out +=
      fmt::format("Spilled {} in {} objects, avg write throughput {}; {} now on disk\n",
                  Bytes(t.spilled_bytes_total), t.spilled_objects_total,
                  Throughput(t.spilled_bytes_total, t.spill_seconds_total), Bytes(t.spilled_bytes));
  out += fmt::format("Restored {} in {} objects, avg read throughput {}\n",
                     Bytes(t.restored_bytes_total), t.restored_objects_total,
                     Throughput(t.restored_bytes_total, t.restore_seconds_total));
  out += fmt::format(
      "References: {} LOCAL_REFERENCE, {} USED_BY_PENDING_TASK, {} CAPTURED_IN_OBJECT, {} "
      "borrowed, {} owned with borrowers, {} pinned out of band\n",
      t.local_reference, t.used_by_pending_task, t.captured_in_object, t.borrowed, t.with_borrowers,
      t.pinned_out_of_band);
  if (!missing_ranks.empty()) {
    std::string list;
    for (int r : missing_ranks) list += (list.empty() ? "" : ", ") + std::to_string(r);
    out += fmt::format("No answer from ranks: {}\n", list);
  }
  return out;
}

MemorySummaryReport MemorySummary(int64_t timeout_ms) {
  auto rt = runtime::CoreRuntime::Current();
  if (!rt) throw PrismError("prism::MemorySummary: Prism is not initialised (call prism::Init)");
  return rt->memory().Collect(timeout_ms);
}

}  // namespace prism
