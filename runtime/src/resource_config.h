#pragma once
// A rank's resource capacity at Init: defaults from what the rank was given (its PUs, GPUs,
// memory share, accelerator type, host), then the `resources` setting on top.
//
// Defaults (Ray's RES-06, RES-21, RES-25):
//   CPU                       the rank's PUs (or the automatic count); `num_cpus` replaces it,
//                             and `head_cpus` on rank 0
//   GPU                       the rank's schedulable GPU ids (`num_gpus` when set); absent at 0
//   memory                    70 % of the rank's memory share in bytes: `memory_limit` when set,
//                             else the node's memory limit divided by its ranks (the object store
//                             takes the other 30 %); absent when neither is known
//   accelerator_type:<type>   1 when the rank has GPUs and the type is known
//   node:<hostname>           1, so work can be sent to a host with a tiny amount (0.001)
// Then every entry of `resources` (resource_spec.h) that applies to the rank, in order, sets its
// amounts (CPU, GPU and memory included). Resources left at 0 are dropped, except CPU.
//
//   ResourceInputs in{.rank = 1, .hostname = "n1", .detected_cpus = 8, ...};
//   Result<ResourceSet> capacity = ComputeRankResources(in);
//
// Thread contract: pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "prism/common/result.h"
#include "resources.h"

namespace prism::runtime {

/// What one rank's capacity is computed from.
struct ResourceInputs {
  int rank = 0;
  std::string hostname;
  double detected_cpus = 0;              ///< the rank's PUs, or the automatic count
  std::vector<std::string> gpu_ids;      ///< RankBinding::gpu_ids
  uint64_t node_memory_limit_bytes = 0;  ///< the node's limit; 0: unknown
  int ranks_on_node = 1;
  std::string accelerator_type;  ///< the setting, else detected (accelerator_type.h); "" none
  std::string resources;         ///< the `resources` setting
  double num_cpus = -1;          ///< settings as in config_def.h (-1: automatic)
  double head_cpus = -1;
  int64_t num_gpus = -1;
  int64_t memory_limit = 0;  ///< the rank's memory limit setting in bytes; 0: automatic
};

/// The rank's capacity. kInvalidArgument naming the setting or the `resources` entry at fault.
Result<ResourceSet> ComputeRankResources(const ResourceInputs& in);

/// The GPU ids the rank's GPU slots hand out for a capacity of `gpu_units` (ResourceSet units):
/// the placed `ids` first, then made-up ids not taken ("0", "1", ...), as for `num_gpus` (a
/// fraction of a GPU still needs one id). Equals `ids` when the count matches.
std::vector<std::string> GpuIdsForCapacity(const std::vector<std::string>& ids, int64_t gpu_units);

}  // namespace prism::runtime
