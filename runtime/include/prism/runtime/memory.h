#pragma once
/// prism::MemorySummary: where the job's memory goes, rank by rank (Ray's `ray memory`).
///
///   prism::MemorySummaryReport report = prism::MemorySummary();
///   std::cout << report.ToString();          // a table per rank and the job's totals
///   uint64_t used = report.ranks[1].store_primary_bytes;
///
/// Every live rank answers with its object-store use (in memory and spilled), the references
/// it holds grouped by reference type as in the seed's `ray memory` output, and its resident
/// memory. Blocks until every live rank answered or `timeout_ms` passed (ranks that did not
/// answer in time are listed in `missing_ranks`). Callable from the driver and from tasks.

#include <cstdint>
#include <string>
#include <vector>

namespace prism {

/// One rank's memory.
struct RankMemory {
  int rank = -1;
  std::string host;

  // Object store (bytes of object data).
  uint64_t store_capacity_bytes = 0;   ///< The rank's store limit.
  uint64_t store_primary_bytes = 0;    ///< Primary copies in memory (made here).
  uint64_t store_secondary_bytes = 0;  ///< Copies pulled from other ranks, in memory.
  uint64_t store_objects = 0;          ///< Objects in memory.
  uint64_t spilled_bytes = 0;          ///< Primary copies now in spill files.
  uint64_t spilled_objects = 0;
  uint64_t spilled_bytes_total = 0;  ///< Since start.
  uint64_t spilled_objects_total = 0;
  uint64_t restored_bytes_total = 0;
  uint64_t restored_objects_total = 0;
  double spill_seconds_total = 0;
  double restore_seconds_total = 0;
  uint64_t evicted_total = 0;  ///< Secondary copies dropped for room.

  // Objects this rank knows of, by what keeps them (one object may count in several rows).
  uint64_t owned_objects = 0;         ///< Owned here (metadata lives here).
  uint64_t owned_bytes = 0;           ///< Sizes of the ready owned objects.
  uint64_t local_reference = 0;       ///< LOCAL_REFERENCE: an ObjectRef on this rank.
  uint64_t used_by_pending_task = 0;  ///< USED_BY_PENDING_TASK: argument of an unfinished task.
  uint64_t captured_in_object = 0;    ///< CAPTURED_IN_OBJECT: inside an object owned here.
  uint64_t borrowed = 0;              ///< Held here, owned by another rank.
  uint64_t with_borrowers = 0;        ///< Owned here and held by other ranks too.
  uint64_t pinned_out_of_band = 0;    ///< Serialized outside Prism: kept until the job ends.

  // The process.
  uint64_t rss_bytes = 0;           ///< Resident memory of the rank's process.
  uint64_t memory_limit_bytes = 0;  ///< The rank's share of its node's memory (0: unknown).
};

/// What MemorySummary gathered.
struct MemorySummaryReport {
  std::vector<RankMemory> ranks;   ///< By rank number.
  std::vector<int> missing_ranks;  ///< Dead, or did not answer in time.

  /// Sums over the ranks (rank = -1, host empty).
  RankMemory Total() const;
  /// A per-rank table followed by the job's totals and spill throughput, like `ray memory
  /// --stats-only`.
  std::string ToString() const;
};

/// Asks every live rank for its memory use; throws PrismError when Prism is not initialised.
MemorySummaryReport MemorySummary(int64_t timeout_ms = 10000);

}  // namespace prism
