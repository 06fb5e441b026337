#include "prism/gpu/placement.h"

#include <algorithm>
#include <string>
#include <utility>

namespace prism::gpu {
namespace {

// The cores that have an allowed PU, each reduced to its allowed PUs, in logical order.
std::vector<CpuSet> CoresWithin(const Topology& topology, const CpuSet& allowed) {
  std::vector<CpuSet> cores;
  for (const CpuSet& core : topology.CoreCpuSets()) {
    CpuSet mine = core.Intersection(allowed);
    if (!mine.empty()) cores.push_back(std::move(mine));
  }
  return cores;
}

// Item `j` of `count` cut into `parts` contiguous runs, the first ones longer: [begin, end).
std::pair<int, int> Run(int count, int parts, int j) {
  int base = count / parts;
  int extra = count % parts;
  int begin = j * base + std::min(j, extra);
  return {begin, begin + base + (j < extra ? 1 : 0)};
}

std::vector<CpuSet> SplitCpus(const std::vector<CpuSet>& cores, int ranks) {
  std::vector<CpuSet> out(static_cast<size_t>(ranks));
  int n = static_cast<int>(cores.size());
  for (int r = 0; r < ranks; ++r) {
    if (n >= ranks) {
      auto [begin, end] = Run(n, ranks, r);
      for (int c = begin; c < end; ++c) out[r] = out[r].Union(cores[c]);
    } else {
      out[r] = cores[static_cast<size_t>(r) * n / ranks];
    }
  }
  return out;
}

// Shares the GPUs `domain` (indices into Gpus()) out among `ranks` (indices of placements).
void ShareOut(const std::vector<int>& domain, const std::vector<int>& ranks,
              std::vector<std::vector<int>>& gpus_of_rank) {
  int g = static_cast<int>(domain.size());
  int n = static_cast<int>(ranks.size());
  for (int j = 0; j < n; ++j) {
    if (g >= n) {
      auto [begin, end] = Run(g, n, j);
      for (int i = begin; i < end; ++i) gpus_of_rank[ranks[j]].push_back(domain[i]);
    } else {
      gpus_of_rank[ranks[j]].push_back(domain[static_cast<size_t>(j) * g / n]);
    }
  }
}

}  // namespace

Result<std::vector<Placement>> PlaceNode(const Topology& topology,
                                         const PlacementRequest& request) {
  if (request.ranks < 1) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "placement: ranks per node must be at least 1, not " + std::to_string(request.ranks));
  }
  CpuSet machine = topology.MachineCpuSet();
  CpuSet allowed = request.allowed.empty() ? machine : request.allowed.Intersection(machine);
  if (allowed.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "placement: the allowed CPU set \"" + request.allowed.ToString() +
                         "\" has no PU of this topology (\"" + machine.ToString() + "\")");
  }
  std::vector<CpuSet> cores = CoresWithin(topology, allowed);
  std::vector<CpuSet> cpus = SplitCpus(cores, request.ranks);

  std::vector<Placement> out(static_cast<size_t>(request.ranks));
  for (int r = 0; r < request.ranks; ++r) out[r].cpus = cpus[r];
  if (request.bound_gpus) {
    for (Placement& p : out) {
      p.gpus = *request.bound_gpus;
      p.gpus_bound = true;
    }
    return out;
  }

  // GPUs grouped by locality, in PCI order of each group's first GPU.
  const std::vector<PciGpu>& gpus = topology.Gpus();
  std::vector<std::vector<int>> domains;
  for (int i = 0; i < static_cast<int>(gpus.size()); ++i) {
    bool placed = false;
    for (auto& domain : domains) {
      if (gpus[domain.front()].local_cpus == gpus[i].local_cpus) {
        domain.push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) domains.push_back({i});
  }
  std::vector<std::vector<int>> gpus_of_rank(static_cast<size_t>(request.ranks));
  for (const auto& domain : domains) {
    const CpuSet& near = gpus[domain.front()].local_cpus;
    std::vector<int> ranks;
    for (int r = 0; r < request.ranks; ++r) {
      if (out[r].cpus.Intersects(near)) ranks.push_back(r);
    }
    if (ranks.empty()) {
      for (int r = 0; r < request.ranks; ++r) ranks.push_back(r);
    }
    ShareOut(domain, ranks, gpus_of_rank);
  }
  for (int r = 0; r < request.ranks; ++r) {
    std::vector<int>& mine = gpus_of_rank[r];
    std::sort(mine.begin(), mine.end());
    for (int g : mine) out[r].gpus.push_back(std::to_string(g));
  }
  return out;
}

Result<Placement> PlaceRank(const Topology& topology, const PlacementRequest& request) {
  if (request.ranks >= 1 && (request.index < 0 || request.index >= request.ranks)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "placement: local rank " + std::to_string(request.index) + " is not in [0, " +
                         std::to_string(request.ranks) + ")");
  }
  auto all = PlaceNode(topology, request);
  if (!all) return all.error();
  return std::move((*all)[request.index]);
}

std::vector<CpuSet> ThreadCpuSets(const Topology& topology, const CpuSet& rank_cpus, int threads) {
  std::vector<CpuSet> out;
  if (threads <= 0) return out;
  std::vector<CpuSet> cores = CoresWithin(topology, rank_cpus);
  if (static_cast<int>(cores.size()) >= threads) {
    out.assign(cores.begin(), cores.begin() + threads);
  } else {
    out.assign(static_cast<size_t>(threads), rank_cpus);
  }
  return out;
}

}  // namespace prism::gpu
