#include "binding.h"

#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "prism/common/clock.h"
#include "prism/common/wire.h"
#include "prism/gpu/devices.h"
#include "prism/gpu/placement.h"
#include "prism/slurm/environment.h"

namespace prism::runtime {
namespace {

gpu::CpuSet ProcessAffinity() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return {};
  std::vector<int> pus;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &set)) pus.push_back(i);
  }
  return gpu::CpuSet(std::move(pus));
}

// What the launcher bound: CUDA_VISIBLE_DEVICES when set (Slurm's gres sets it; so may the user
// before the launch), else SLURM_STEP_GPUS, else SLURM_JOB_GPUS. nullopt: nothing bound.
std::optional<std::vector<std::string>> BoundGpus(std::vector<std::string>* warnings) {
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) {
    auto parsed = gpu::ParseVisibleDevices(visible);
    if (parsed) return *parsed;
    warnings->push_back(parsed.error().message + "; this rank uses no GPU");
    return std::vector<std::string>{};
  }
  auto slurm = slurm::SlurmEnvironment::FromEnvironment();
  if (!slurm) {
    warnings->push_back(slurm.error().message + "; Slurm's GPU binding is ignored");
    return std::nullopt;
  }
  if (!slurm->has_value()) return std::nullopt;
  const auto& list = (*slurm)->step_gpus ? (*slurm)->step_gpus : (*slurm)->job_gpus;
  if (!list) return std::nullopt;
  std::vector<std::string> out;
  for (int g : *list) out.push_back(std::to_string(g));
  return out;
}

std::string Join(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ","));
}

}  // namespace

std::string RankBinding::Describe() const {
  std::string gpu_source = gpus_bound ? "bound by the launcher" : "nearest to its cores";
  return fmt::format(
      "cpus {} ({} of {} ranks sharing this node's allowed set; {}), gpus [{}] ({}), {} "
      "schedulable GPU(s) [{}]",
      cpus.empty() ? std::string("unknown") : cpus.ToString(), index_sharing, ranks_sharing,
      pin ? std::string("threads pinned") : "threads not pinned: " + why_not_pinned, Join(gpus),
      gpu_source, gpu_ids.size(), Join(gpu_ids));
}

std::vector<std::vector<int>> RankBinding::WorkerCpus(int threads) const {
  std::vector<std::vector<int>> out;
  if (!pin || !topology) return out;
  for (const gpu::CpuSet& set : gpu::ThreadCpuSets(*topology, cpus, threads)) {
    out.push_back(set.pus());
  }
  return out;
}

RankBinding BindRank(transport::Bootstrap& bootstrap, const SystemConfig& config,
                     std::vector<std::string>* warnings) {
  RankBinding binding;
  gpu::CpuSet affinity = ProcessAffinity();
  std::optional<std::vector<std::string>> bound = BoundGpus(warnings);

  // Ranks on this host with the same allowed set and GPU binding split them; a rank bound to a
  // set of its own (srun --cpu-bind) is a group of one.
  std::string key = affinity.ToString() + "|" + (bound ? Join(*bound) : "-");
  std::vector<std::byte> mine;
  WireWriter w(mine);
  w.String(key);
  auto all = bootstrap.AllGather(mine);
  if (!all) {
    warnings->push_back("placement: " + all.error().ToString() + "; this rank runs unbound");
    return binding;
  }
  const auto& hosts = bootstrap.hostnames();
  Rank me = bootstrap.rank();
  int ranks = 0;
  int index = 0;
  for (Rank r = 0; r < bootstrap.size(); ++r) {
    WireReader reader((*all)[r]);
    std::string theirs = reader.String();
    if (!reader.AtEnd() || hosts[r] != hosts[me] || theirs != key) continue;
    if (r == me) index = ranks;
    ++ranks;
  }
  binding.ranks_sharing = std::max(ranks, 1);
  binding.index_sharing = index;

  int64_t start = NowNanos();
  auto topo = gpu::Topology::Load();
  binding.topology_load_ms = static_cast<double>(NowNanos() - start) / 1e6;
  if (!topo) {
    warnings->push_back("placement: " + topo.error().message + "; this rank runs unbound");
    if (bound) binding.gpus = *bound;
    binding.gpus_bound = bound.has_value();
    binding.why_not_pinned = "no topology";
  } else {
    auto shared = std::make_shared<gpu::Topology>(std::move(*topo));
    gpu::PlacementRequest request;
    request.ranks = binding.ranks_sharing;
    request.index = binding.index_sharing;
    auto allowed = shared->AllowedCpuSet();
    request.allowed = allowed ? *allowed : affinity;
    request.bound_gpus = bound;
    auto placement = gpu::PlaceRank(*shared, request);
    if (!placement) {
      warnings->push_back(placement.error().message + "; this rank runs unbound");
      binding.why_not_pinned = "no placement";
    } else {
      binding.cpus = placement->cpus;
      binding.gpus = placement->gpus;
      binding.gpus_bound = placement->gpus_bound;
      int cores = shared->CoresIn(request.allowed);
      if (!config.bind_threads) {
        binding.why_not_pinned = "bind_threads is off";
      } else if (!shared->is_this_system()) {
        binding.why_not_pinned = "the topology is not this machine's (HWLOC_XMLFILE/SYNTHETIC)";
      } else if (cores < binding.ranks_sharing) {
        binding.why_not_pinned =
            fmt::format("{} ranks share {} cores (oversubscribed: the kernel balances them)",
                        binding.ranks_sharing, cores);
      } else {
        binding.pin = true;
      }
    }
    binding.topology = std::move(shared);
  }

  // CUDA_VISIBLE_DEVICES before any CUDA call: ours when we chose, Slurm's stays as it is.
  bool node_has_gpus = binding.topology && !binding.topology->Gpus().empty();
  if (!binding.gpus_bound && node_has_gpus) {
    setenv("CUDA_VISIBLE_DEVICES", Join(binding.gpus).c_str(), 1);
    setenv("CUDA_DEVICE_ORDER", "PCI_BUS_ID", 1);  // our ids are positions in PCI order
  } else if (binding.gpus_bound && std::getenv("CUDA_VISIBLE_DEVICES") == nullptr) {
    setenv("CUDA_VISIBLE_DEVICES", Join(binding.gpus).c_str(), 1);  // SLURM_*_GPUS only
  }

  // The GPUs this rank schedules.
  std::vector<std::string> usable = binding.gpus;
  if (config.num_gpus >= 0) {
    // Declared by the user: the first placed GPUs, then made-up ids that are not taken.
    auto wanted = static_cast<size_t>(config.num_gpus);
    if (usable.size() > wanted) usable.resize(wanted);
    for (int i = 0; usable.size() < wanted; ++i) {
      std::string id = std::to_string(i);
      if (std::find(usable.begin(), usable.end(), id) == usable.end()) usable.push_back(id);
    }
  } else if (binding.topology && !binding.topology->is_this_system()) {
    // A fake topology (tests, what-if runs): believe it.
  } else {
    // A failing cudaGetDeviceCount (no driver: error 35) means no GPU.
    int cuda = gpu::CudaDeviceCount();
    if (usable.empty() && !binding.gpus_bound && cuda > 0) {
      for (int i = 0; i < cuda; ++i) usable.push_back(std::to_string(i));  // hwloc saw none
    }
    usable.resize(std::min(usable.size(), static_cast<size_t>(cuda)));
  }
  binding.gpu_ids = std::move(usable);
  return binding;
}

Status PinCurrentThread(const std::vector<int>& cpus) {
  if (cpus.empty()) return Status::Ok();
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int pu : cpus) {
    if (pu >= 0 && pu < CPU_SETSIZE) CPU_SET(pu, &set);
  }
  int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  if (rc != 0) {
    return MakeError(ErrorCode::kIoError,
                     fmt::format("cannot bind a thread to CPUs {}: {}",
                                 gpu::CpuSet(cpus).ToString(), std::strerror(rc)));
  }
  return Status::Ok();
}

}  // namespace prism::runtime
