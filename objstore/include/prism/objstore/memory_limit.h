#pragma once
/// Memory limits: how much memory this node gives the job, and the object store's default share.
///
/// The node limit is the first of these that applies: the memory cgroup of this process (v2
/// `memory.max`, v1 `memory.limit_in_bytes`, the tightest along the cgroup's ancestors), Slurm
/// (`SLURM_MEM_PER_NODE`, or `SLURM_MEM_PER_CPU` x `SLURM_CPUS_ON_NODE`, in MiB), else
/// `MemTotal` of /proc/meminfo; never more than MemTotal. Not hwloc, which misreports memory in
/// containers. Files and variables are read through injected functions, so tests pass fakes.
///
///   auto limit = DetectNodeMemoryLimit(MemorySources::System());
///   if (!limit) return limit.error();         // a malformed file or variable, named
///   uint64_t store = DefaultStoreCapacity(limit->bytes, /*ranks_on_node=*/4);
///
/// Thread contract: pure functions; thread-safe as long as the injected readers are.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "prism/common/result.h"

namespace prism::objstore {

/// Where limits are read from.
struct MemorySources {
  /// The contents of a file, or nullopt when it cannot be read (absent, no permission).
  std::function<std::optional<std::string>(const std::string& path)> read_file;
  /// An environment variable, or null when unset.
  std::function<const char*(const char*)> get_env;
  /// Where the cgroup file systems are mounted (v2 unified, or v1 with one folder per controller).
  std::string cgroup_root = "/sys/fs/cgroup";

  /// The real files and environment of this process.
  static MemorySources System();
};

/// A node's memory limit and where it came from.
struct NodeMemoryLimit {
  uint64_t bytes = 0;
  std::string source;  ///< "cgroup v2 /sys/fs/cgroup/job/memory.max", "SLURM_MEM_PER_NODE", ...
};

/// The node's memory limit. kInvalidArgument naming the file or variable when one that is set
/// cannot be parsed; kNotFound when not even /proc/meminfo can be read.
Result<NodeMemoryLimit> DetectNodeMemoryLimit(const MemorySources& sources);

/// The object store's default capacity: `fraction` (30 %) of this rank's share of the node
/// limit, the limit divided by the ranks on the node.
uint64_t DefaultStoreCapacity(uint64_t node_limit_bytes, int ranks_on_node, double fraction = 0.3);

}  // namespace prism::objstore
