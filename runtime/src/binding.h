#pragma once
// RankBinding: where this rank runs on its node (its PUs, its GPUs, where its worker threads go),
// decided at Init from the hwloc topology, the launcher's binding and Slurm's GPU variables.
//
// Policy (docs/placement.md): the ranks of a node that share the same allowed CPU set and the
// same bound GPU list split that set with prism::gpu::PlaceNode; Slurm's or a cgroup's binding is
// never widened. GPUs are exactly what Slurm bound, or else those nearest the rank's cores,
// exported as CUDA_VISIBLE_DEVICES (with CUDA_DEVICE_ORDER=PCI_BUS_ID) before any CUDA call.
//
// Thread contract: BindRank runs once, on the thread that calls prism::Init, before any other
// runtime thread exists (it calls setenv).

#include <memory>
#include <string>
#include <vector>

#include "prism/common/config.h"
#include "prism/gpu/cpu_set.h"
#include "prism/gpu/topology.h"
#include "prism/transport/bootstrap.h"

namespace prism::runtime {

struct RankBinding {
  /// The rank's PUs; empty when the topology could not be loaded.
  gpu::CpuSet cpus;
  /// Threads are pinned: a real topology, bind_threads on, and at least one core per rank.
  bool pin = false;
  std::string why_not_pinned;
  /// The rank's GPUs, as CUDA_VISIBLE_DEVICES entries (node-level ids).
  std::vector<std::string> gpus;
  bool gpus_bound = false;  // by Slurm (or a CUDA_VISIBLE_DEVICES set before the launch)
  /// The ids of the GPUs the rank schedules: its "GPU" capacity is their number. Fewer than
  /// `gpus` when CUDA sees fewer devices (none without a driver), more with num_gpus.
  std::vector<std::string> gpu_ids;
  int ranks_sharing = 1;  // ranks of this node that split the same allowed set
  int index_sharing = 0;
  double topology_load_ms = 0;
  std::shared_ptr<const gpu::Topology> topology;  // null when it could not be loaded

  /// One line for the log: "cpus 0-7 (4 cores, pinned), gpus 0,1 (nearest), ...".
  std::string Describe() const;
  /// Where each of the first `threads` worker threads runs (PU lists); empty when not pinned.
  std::vector<std::vector<int>> WorkerCpus(int threads) const;
};

/// Collective over `bootstrap` (one AllGather): every rank calls it once in Init. Never fails:
/// problems (no topology, malformed CUDA_VISIBLE_DEVICES or SLURM_* GPU lists) become
/// `warnings`, and the rank then runs unbound.
RankBinding BindRank(transport::Bootstrap& bootstrap, const SystemConfig& config,
                     std::vector<std::string>* warnings);

/// Binds the calling thread to `cpus` (pthread_setaffinity_np); threads it starts afterwards
/// inherit the binding. kIoError names the set and the system error.
Status PinCurrentThread(const std::vector<int>& cpus);

}  // namespace prism::runtime
