#pragma once
// MemoryReporter: answers prism::MemorySummary. Each rank reports its own memory (object store,
// references by type, resident size); the asking rank gathers every live rank's report.
//
// Thread contract: thread-safe; Collect blocks its caller (never call it in progress context).

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
