#include "bench_options.h"

#include <utility>

namespace prism::bench {

std::string SizeLabel(size_t bytes) {
  constexpr size_t kKiB = size_t{1} << 10;
  constexpr size_t kMiB = size_t{1} << 20;
  constexpr size_t kGiB = size_t{1} << 30;
  if (bytes >= kGiB && bytes % kGiB == 0) return std::to_string(bytes / kGiB) + "GiB";
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + "KiB";
  return std::to_string(bytes) + "B";
}

const std::vector<std::string>& AllMeasureNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"mpi_pingpong_latency_8B"};
    for (size_t size : kBandwidthSizes) out.push_back("mpi_bandwidth_" + SizeLabel(size));
    for (const char* name :
         {"task_sync_roundtrip", "single_client_tasks_sync", "single_client_tasks_async",
          "task_async_throughput_100k", "multi_client_tasks_async", "single_client_wait_1k_refs",
          "many_tasks_1m_queued", "1_1_actor_calls_sync", "1_1_actor_calls_async",
          "1_1_actor_calls_concurrent", "1_n_actor_calls_async", "n_n_actor_calls_async",
          "actor_creations", "many_actors_10k", "single_client_put_calls",
          "single_client_get_calls", "single_client_put_gigabytes",
          "single_client_get_object_containing_10k_refs"}) {
      out.emplace_back(name);
    }
    for (size_t size : kBandwidthSizes) out.push_back("transfer_bandwidth_" + SizeLabel(size));
    // Each sweep also reports taskbench_<pattern>_eff_<grain>us, selected with its METG.
    for (const char* name : {"metg_stencil_us", "metg_tree_us", "placement_group_create_removal",
                             "pg_create_remove_per_s", "scheduling_decisions_per_s"}) {
      out.emplace_back(name);
    }
    return out;
  }();
  return names;
}

BenchOptions::BenchOptions(std::string json_path, const std::string& filter, bool quick)
    : json_path_(std::move(json_path)), quick_(quick) {
  if (!filter.empty()) filter_.emplace(filter, std::regex::ECMAScript);
}

bool BenchOptions::Selected(const std::string& name) const {
  return !filter_ || std::regex_search(name, *filter_);
}

}  // namespace prism::bench
