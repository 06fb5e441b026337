#pragma once
/// SlurmEnvironment: what Slurm tells a job step's process through SLURM_* environment
/// variables, parsed and validated once.

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "prism/common/result.h"

namespace prism::slurm {

/// The Slurm variables Prism uses; a field is empty when its variable is not set. Lists come
/// expanded: job_nodelist holds one host name per node, tasks_per_node one count per node.
///
///   auto env = SlurmEnvironment::FromEnvironment();
///   if (!env) return env.error();                 // a SLURM_* variable was malformed
///   if (!env->has_value()) return RunStandalone();
///   const SlurmEnvironment& slurm = **env;
///   int nodes = slurm.nnodes.value_or(1);
///
/// Caveats from running under Slurm:
///   - procid is the srun task, not the MPI rank: under `mpirun` inside an allocation every rank
///     has SLURM_PROCID=0 (one orted per node is the srun task). Take the rank from MPI.
///   - cpus_per_task is set only when the job or step was given -c/--cpus-per-task.
///   - The GPU lists are set only when gres.conf names device files; otherwise only
///     gpus_on_node is. cuda_visible_devices is the raw value (parse it with
///     prism::gpu::ParseVisibleDevices).
///
/// Thread contract: a value type; FromEnvironment is thread-safe as long as nothing calls
/// setenv concurrently (getenv's own rule).
struct SlurmEnvironment {
  std::optional<std::uint64_t> job_id;   ///< SLURM_JOB_ID (or SLURM_JOBID).
  std::optional<std::uint64_t> step_id;  ///< SLURM_STEP_ID (or SLURM_STEPID).
  std::optional<int> procid;             ///< SLURM_PROCID: the srun task, not the MPI rank.
  std::optional<int> localid;            ///< SLURM_LOCALID: task index on this node.
  std::optional<int> nodeid;             ///< SLURM_NODEID: this node's index in the step.
  std::optional<int> ntasks;             ///< SLURM_NTASKS (or SLURM_NPROCS).
  std::optional<int> nnodes;             ///< SLURM_NNODES (or SLURM_JOB_NUM_NODES).
  std::optional<int> cpus_per_task;      ///< SLURM_CPUS_PER_TASK: only with -c.
  std::optional<int> cpus_on_node;       ///< SLURM_CPUS_ON_NODE.
  std::optional<int> gpus_per_task;      ///< SLURM_GPUS_PER_TASK ("2" or "type:2"): only with
                                         ///< --gpus-per-task.
  std::optional<int> ntasks_per_node;    ///< SLURM_NTASKS_PER_NODE: only with
                                         ///< --ntasks-per-node.
  std::optional<int> step_num_tasks;     ///< SLURM_STEP_NUM_TASKS: tasks of this step.
  /// SLURM_JOB_NODELIST (or SLURM_NODELIST), expanded.
  std::optional<std::vector<std::string>> job_nodelist;
  std::optional<std::vector<std::string>> step_nodelist;  ///< SLURM_STEP_NODELIST, expanded.
  std::optional<std::vector<int>> tasks_per_node;         ///< SLURM_TASKS_PER_NODE, expanded.
  std::optional<std::vector<int>> job_cpus_per_node;      ///< SLURM_JOB_CPUS_PER_NODE, expanded.
  std::optional<std::uint64_t> mem_per_cpu_mb;            ///< SLURM_MEM_PER_CPU (MB).
  std::optional<std::uint64_t> mem_per_node_mb;           ///< SLURM_MEM_PER_NODE (MB).
  std::optional<std::vector<int>> step_gpus;              ///< SLURM_STEP_GPUS ("0,1").
  std::optional<std::vector<int>> job_gpus;               ///< SLURM_JOB_GPUS ("0,1").
  std::optional<std::string> cuda_visible_devices;        ///< CUDA_VISIBLE_DEVICES, raw.
  std::optional<int> gpus_on_node;                        ///< SLURM_GPUS_ON_NODE.
  std::optional<std::string> node_name;                   ///< SLURMD_NODENAME.
  std::optional<std::string> cluster_name;                ///< SLURM_CLUSTER_NAME.
  std::optional<std::string> partition;                   ///< SLURM_JOB_PARTITION.
  std::optional<std::string> submit_dir;                  ///< SLURM_SUBMIT_DIR.
  /// SLURM_STEP_TASKS_PER_NODE, expanded: this step's tasks on each of its nodes.
  std::optional<std::vector<int>> step_tasks_per_node;
  std::optional<std::string> mpi_type;  ///< SLURM_MPI_TYPE: srun's --mpi (e.g. "pmix").

  /// Reads the variables through `get_env` (inject a fake in tests). nullopt when the process is
  /// not inside a Slurm job (neither SLURM_JOB_ID nor SLURM_JOBID is set). kInvalidArgument,
  /// naming the variable and its value, when a set variable is malformed (SLURM_NTASKS=abc,
  /// SLURM_JOB_NODELIST="n[1-", an empty number).
  static Result<std::optional<SlurmEnvironment>> FromEnvironment(
      const std::function<const char*(const char*)>& get_env = std::getenv);
};

}  // namespace prism::slurm
