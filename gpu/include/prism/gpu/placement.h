#pragma once
/// Placement: which PUs and GPUs of a node each rank on it gets, and where its threads run. A
/// pure function of the topology, so fake topologies test it.

#include <optional>
#include <string>
#include <vector>

#include "prism/common/result.h"
#include "prism/gpu/cpu_set.h"
#include "prism/gpu/topology.h"

namespace prism::gpu {

/// What one rank needs to know to find its share of a node.
struct PlacementRequest {
  /// Ranks that share `allowed` on this node (ranks bound to a set of their own, e.g. by
  /// `srun --cpu-bind`, form a group of one).
  int ranks = 1;
  /// This rank among them, 0-based, in rank order.
  int index = 0;
  /// PUs the ranks may use (their sched_getaffinity set, Slurm's or a cgroup's binding); never
  /// widened. Empty: the whole machine.
  CpuSet allowed;
  /// GPUs the launcher bound (gres-set CUDA_VISIBLE_DEVICES, SLURM_STEP_GPUS, SLURM_JOB_GPUS):
  /// the rank gets exactly these. nullopt: choose among the topology's GPUs.
  std::optional<std::vector<std::string>> bound_gpus;
};

/// One rank's share of its node.
struct Placement {
  CpuSet cpus;  ///< The rank's PUs.
  /// CUDA_VISIBLE_DEVICES entries: positions in Topology::Gpus() (PCI bus order, so run CUDA
  /// with CUDA_DEVICE_ORDER=PCI_BUS_ID) when chosen here, Slurm's entries when bound.
  std::vector<std::string> gpus;
  bool gpus_bound = false;  ///< gpus came from PlacementRequest::bound_gpus.
};

/// Every rank's share of the node, indexed by PlacementRequest::index (`request.index` is
/// ignored). Policy:
///   - CPUs: the cores of `allowed` (only their allowed PUs) are cut into `ranks` contiguous
///     runs in logical order (package by package), the first ones one core longer when they do
///     not divide evenly. With fewer cores than ranks, rank i shares core i * cores / ranks.
///   - GPUs, when bound: every rank gets exactly the bound list.
///   - GPUs, otherwise: the GPUs with the same local CPUs (one package or NUMA node) are shared
///     out among the ranks whose PUs meet those CPUs: contiguous runs when there are at least as
///     many GPUs as ranks, else rank j of n takes GPU j * gpus / n (ranks share it). GPUs near
///     no rank go to all ranks the same way, so that none sits idle.
/// kInvalidArgument for ranks < 1 or an `allowed` set with no PU of the topology.
///
///   PlacementRequest request;
///   request.ranks = 2;
///   auto all = PlaceNode(topo, request);
///   (*all)[1].cpus.ToString();   // "16-31" on two 16-PU packages
Result<std::vector<Placement>> PlaceNode(const Topology& topology, const PlacementRequest& request);

/// This rank's share: PlaceNode(...)[request.index]. kInvalidArgument also when index is not in
/// [0, ranks).
Result<Placement> PlaceRank(const Topology& topology, const PlacementRequest& request);

/// Where each of `threads` worker threads of a rank with PUs `rank_cpus` runs: one core each
/// (its PUs within rank_cpus), in logical order, when the rank has at least `threads` cores;
/// otherwise every thread gets all of rank_cpus (the kernel balances them).
std::vector<CpuSet> ThreadCpuSets(const Topology& topology, const CpuSet& rank_cpus, int threads);

}  // namespace prism::gpu
