#pragma once
// MemoryReporter: answers prism::MemorySummary. Each rank reports its own memory (object store,
// references by type, resident size); the asking rank gathers every live rank's report.
//
// Thread contract: thread-safe; Collect blocks its caller (never call it in progress context).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "object_manager.h"
#include "prism/common/futex.h"
#include "prism/objstore/object_store.h"
#include "prism/runtime/memory.h"
#include "prism/transport/transport.h"

namespace prism::runtime {

/// The counters of a RankMemory, in wire order: one list for the report's codec and its totals.
inline constexpr std::array<uint64_t RankMemory::*, 21> kRankMemoryCounters = {
    &RankMemory::store_capacity_bytes,
    &RankMemory::store_primary_bytes,
    &RankMemory::store_secondary_bytes,
    &RankMemory::store_objects,
    &RankMemory::spilled_bytes,
    &RankMemory::spilled_objects,
    &RankMemory::spilled_bytes_total,
    &RankMemory::spilled_objects_total,
    &RankMemory::restored_bytes_total,
    &RankMemory::restored_objects_total,
    &RankMemory::evicted_total,
    &RankMemory::owned_objects,
    &RankMemory::owned_bytes,
    &RankMemory::local_reference,
    &RankMemory::used_by_pending_task,
    &RankMemory::captured_in_object,
    &RankMemory::borrowed,
    &RankMemory::with_borrowers,
    &RankMemory::pinned_out_of_band,
    &RankMemory::rss_bytes,
    &RankMemory::memory_limit_bytes};
/// Its durations (seconds; nanoseconds on the wire).
inline constexpr std::array<double RankMemory::*, 2> kRankMemorySeconds = {
    &RankMemory::spill_seconds_total, &RankMemory::restore_seconds_total};

class MemoryReporter {
 public:
  MemoryReporter(transport::Transport& transport, objstore::ObjectStore& store,
                 ObjectManager& objects, uint64_t memory_limit_bytes);

  void RegisterHandlers();

  /// This rank's memory now.
  RankMemory Local() const;
  /// Every live rank's memory; ranks that do not answer within `timeout_ms` are missing.
  MemorySummaryReport Collect(int64_t timeout_ms);

 private:
  struct Request {
    std::map<Rank, RankMemory> replies;
    size_t expected = 0;
    Event event;
  };

  void OnRequest(Rank source, std::span<const std::byte> payload);
  void OnReply(Rank source, std::span<const std::byte> payload);

  transport::Transport& transport_;
  objstore::ObjectStore& store_;
  ObjectManager& objects_;
  uint64_t memory_limit_bytes_;

  std::mutex mu_;
  uint64_t next_request_ = 1;
  std::map<uint64_t, std::shared_ptr<Request>> requests_;
};

/// Resident set size of this process (/proc/self/statm), 0 when unknown.
uint64_t ResidentBytes();

}  // namespace prism::runtime
