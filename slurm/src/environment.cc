#include "prism/slurm/environment.h"

#include <limits>
#include <string_view>
#include <utility>

#include "decimal.h"
#include "prism/slurm/hostlist.h"
#include "prism/slurm/tasks_per_node.h"

namespace prism::slurm {
namespace {

constexpr std::uint64_t kMaxInt = std::numeric_limits<int>::max();

// Reads variables through the injected getenv; remembers the first malformed one.
class Reader {
 public:
  explicit Reader(const std::function<const char*(const char*)>& get_env) : get_env_(get_env) {}

  // The value of `name`, else of `alias` (may be null).
  std::optional<std::pair<const char*, std::string>> Raw(const char* name,
                                                         const char* alias = nullptr) const {
    if (const char* value = get_env_(name)) return std::make_pair(name, std::string(value));
    if (alias != nullptr) {
      if (const char* value = get_env_(alias)) return std::make_pair(alias, std::string(value));
    }
    return std::nullopt;
  }

  void ReadString(std::optional<std::string>* out, const char* name) {
    if (auto raw = Raw(name)) *out = std::move(raw->second);
  }

  void ReadUnsigned(std::optional<std::uint64_t>* out, const char* name,
                    const char* alias = nullptr) {
    auto raw = Raw(name, alias);
    if (!raw) return;
    auto value = internal::ParseDecimal(raw->second, std::numeric_limits<std::uint64_t>::max());
    if (!value) return Bad(*raw, "not a non-negative integer");
    *out = *value;
  }

  void ReadInt(std::optional<int>* out, const char* name, const char* alias = nullptr) {
    auto raw = Raw(name, alias);
    if (!raw) return;
    auto value = internal::ParseDecimal(raw->second, kMaxInt);
    if (!value) return Bad(*raw, "not a non-negative integer below 2^31");
    *out = static_cast<int>(*value);
  }

  // "2" or "type:2" (srun --gpus-per-task=[type:]count).
  void ReadTypedCount(std::optional<int>* out, const char* name) {
    auto raw = Raw(name);
    if (!raw) return;
    std::string_view text = raw->second;
    std::size_t colon = text.rfind(':');
    if (colon != std::string_view::npos) {
      if (colon == 0) return Bad(*raw, "empty type before ':'");
      text = text.substr(colon + 1);
    }
    auto value = internal::ParseDecimal(text, kMaxInt);
    if (!value) return Bad(*raw, "not a count or type:count");
    *out = static_cast<int>(*value);
  }

  void ReadHostlist(std::optional<std::vector<std::string>>* out, const char* name,
                    const char* alias = nullptr) {
    auto raw = Raw(name, alias);
    if (!raw) return;
    auto hosts = ExpandHostlist(raw->second);
    if (!hosts) return Bad(*raw, hosts.error().message);
    if (hosts->empty()) return Bad(*raw, "no host");
    *out = std::move(*hosts);
  }

  void ReadCounts(std::optional<std::vector<int>>* out, const char* name) {
    auto raw = Raw(name);
    if (!raw) return;
    auto counts = ParseTasksPerNode(raw->second);
    if (!counts) return Bad(*raw, counts.error().message);
    *out = std::move(*counts);
  }

  // "0,1,3" (ranges "0-3" too): GPU indices as Slurm hands them out.
  void ReadIndexList(std::optional<std::vector<int>>* out, const char* name) {
    auto raw = Raw(name);
    if (!raw) return;
    std::vector<int> indices;
    std::string_view text = raw->second;
    std::size_t pos = 0;
    while (true) {
      std::size_t end = text.find(',', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view entry = text.substr(pos, end - pos);
      std::size_t dash = entry.find('-');
      auto first = internal::ParseDecimal(entry.substr(0, dash), kMaxInt);
      auto last = dash == std::string_view::npos
                      ? first
                      : internal::ParseDecimal(entry.substr(dash + 1), kMaxInt);
      if (!first || !last || *last < *first || *last - *first >= kMaxHostlistHosts) {
        return Bad(*raw, "bad index entry \"" + std::string(entry) + "\"");
      }
      for (std::uint64_t i = *first; i <= *last; ++i) indices.push_back(static_cast<int>(i));
      if (end == text.size()) break;
      pos = end + 1;
    }
    *out = std::move(indices);
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  void Bad(const std::pair<const char*, std::string>& raw, const std::string& why) {
    if (error_) return;
    error_ = MakeError(ErrorCode::kInvalidArgument,
                       std::string(raw.first) + "=\"" + raw.second + "\": " + why);
  }

  const std::function<const char*(const char*)>& get_env_;
  std::optional<Error> error_;
};

}  // namespace

Result<std::optional<SlurmEnvironment>> SlurmEnvironment::FromEnvironment(
    const std::function<const char*(const char*)>& get_env) {
  Reader reader(get_env);
  if (!reader.Raw("SLURM_JOB_ID", "SLURM_JOBID")) return std::optional<SlurmEnvironment>();
  SlurmEnvironment env;
  reader.ReadUnsigned(&env.job_id, "SLURM_JOB_ID", "SLURM_JOBID");
  reader.ReadUnsigned(&env.step_id, "SLURM_STEP_ID", "SLURM_STEPID");
  reader.ReadInt(&env.procid, "SLURM_PROCID");
  reader.ReadInt(&env.localid, "SLURM_LOCALID");
  reader.ReadInt(&env.nodeid, "SLURM_NODEID");
  reader.ReadInt(&env.ntasks, "SLURM_NTASKS", "SLURM_NPROCS");
  reader.ReadInt(&env.nnodes, "SLURM_NNODES", "SLURM_JOB_NUM_NODES");
  reader.ReadInt(&env.cpus_per_task, "SLURM_CPUS_PER_TASK");
  reader.ReadInt(&env.cpus_on_node, "SLURM_CPUS_ON_NODE");
  reader.ReadTypedCount(&env.gpus_per_task, "SLURM_GPUS_PER_TASK");
  reader.ReadInt(&env.ntasks_per_node, "SLURM_NTASKS_PER_NODE");
  reader.ReadInt(&env.step_num_tasks, "SLURM_STEP_NUM_TASKS");
  reader.ReadHostlist(&env.job_nodelist, "SLURM_JOB_NODELIST", "SLURM_NODELIST");
  reader.ReadHostlist(&env.step_nodelist, "SLURM_STEP_NODELIST");
  reader.ReadCounts(&env.tasks_per_node, "SLURM_TASKS_PER_NODE");
  reader.ReadCounts(&env.step_tasks_per_node, "SLURM_STEP_TASKS_PER_NODE");
  reader.ReadCounts(&env.job_cpus_per_node, "SLURM_JOB_CPUS_PER_NODE");
  reader.ReadUnsigned(&env.mem_per_cpu_mb, "SLURM_MEM_PER_CPU");
  reader.ReadUnsigned(&env.mem_per_node_mb, "SLURM_MEM_PER_NODE");
  reader.ReadIndexList(&env.step_gpus, "SLURM_STEP_GPUS");
  reader.ReadIndexList(&env.job_gpus, "SLURM_JOB_GPUS");
  reader.ReadString(&env.cuda_visible_devices, "CUDA_VISIBLE_DEVICES");
  reader.ReadInt(&env.gpus_on_node, "SLURM_GPUS_ON_NODE");
  reader.ReadString(&env.node_name, "SLURMD_NODENAME");
  reader.ReadString(&env.cluster_name, "SLURM_CLUSTER_NAME");
  reader.ReadString(&env.partition, "SLURM_JOB_PARTITION");
  reader.ReadString(&env.submit_dir, "SLURM_SUBMIT_DIR");
  reader.ReadString(&env.mpi_type, "SLURM_MPI_TYPE");
  if (reader.error()) return *reader.error();
  return std::optional<SlurmEnvironment>(std::move(env));
}

}  // namespace prism::slurm
