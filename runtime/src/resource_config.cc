#include "resource_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "resource_spec.h"

namespace prism::runtime {
namespace {

Error Bad(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// floor(0.7 * bytes) without going through a double.
uint64_t SeventyPercent(uint64_t bytes) { return bytes / 10 * 7 + bytes % 10 * 7 / 10; }

}  // namespace

Result<ResourceSet> ComputeRankResources(const ResourceInputs& in) {
  ResourceSet capacity;

  double cpus = in.detected_cpus;
  const char* cpu_setting = "the detected CPU count";
  if (in.num_cpus >= 0) {
    cpus = in.num_cpus;
    cpu_setting = "num_cpus";
  }
  if (in.rank == 0 && in.head_cpus >= 0) {
    cpus = in.head_cpus;
    cpu_setting = "head_cpus";
  }
  if (Status s = capacity.Set("CPU", cpus); !s) {
    return Bad(fmt::format("{}: {}", cpu_setting, s.error().message));
  }

  double gpus =
      in.num_gpus >= 0 ? static_cast<double>(in.num_gpus) : static_cast<double>(in.gpu_ids.size());
  if (Status s = capacity.Set("GPU", gpus); !s) {
    return Bad(fmt::format("num_gpus: {}", s.error().message));
  }

  uint64_t share = 0;
  if (in.memory_limit > 0) {
    share = static_cast<uint64_t>(in.memory_limit);
  } else if (in.node_memory_limit_bytes > 0) {
    share = in.node_memory_limit_bytes / static_cast<uint64_t>(std::max(1, in.ranks_on_node));
  }
  uint64_t memory =
      std::min<uint64_t>(SeventyPercent(share), static_cast<uint64_t>(kMaxResourceAmount));
  if (Status s = capacity.Set("memory", static_cast<double>(memory)); !s) {
    return Bad(fmt::format("memory default: {}", s.error().message));
  }

  if (!in.hostname.empty()) {
    std::string node = "node:" + in.hostname;
    if (!IsValidResourceName(node)) {
      return Bad(fmt::format("host name '{}' cannot name a resource", in.hostname));
    }
    capacity.SetUnits(node, kResourceUnit);
  }

  auto spec = ParseResourceSpec(in.resources);
  if (!spec) return spec.error();
  std::set<std::string> configured;
  for (const ResourceSpecEntry& entry : *spec) {
    if (!entry.AppliesTo(in.rank, in.hostname)) continue;
    for (const auto& [name, amount] : entry.amounts) {
      if (Status s = capacity.Set(name, amount); !s) return s.error();  // checked when parsed
      configured.insert(name);
    }
  }

  // The accelerator type follows the final GPU amount, so `GPU=0` on a rank drops it too.
  if (!in.accelerator_type.empty() && capacity.Units("GPU") > 0) {
    std::string name = "accelerator_type:" + in.accelerator_type;
    if (!IsValidResourceName(name)) {
      return Bad(fmt::format("accelerator_type '{}': letters, digits and _-:./ only",
                             in.accelerator_type));
    }
    if (configured.count(name) == 0) capacity.SetUnits(name, kResourceUnit);
  }

  ResourceSet out;
  for (const auto& [name, units] : capacity.entries()) {
    if (units != 0 || name == "CPU") out.SetUnits(name, units);
  }
  return out;
}

std::vector<std::string> GpuIdsForCapacity(const std::vector<std::string>& ids, int64_t gpu_units) {
  auto wanted =
      static_cast<size_t>((std::max<int64_t>(gpu_units, 0) + kResourceUnit - 1) / kResourceUnit);
  std::vector<std::string> out = ids;
  if (out.size() > wanted) out.resize(wanted);
  for (int i = 0; out.size() < wanted; ++i) {
    std::string id = std::to_string(i);
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

}  // namespace prism::runtime
