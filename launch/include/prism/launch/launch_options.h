#pragma once
/// The `prism` command line: which subcommand, and the options of `prism launch`.

#include <optional>
#include <string>
#include <vector>

#include "prism/common/result.h"
#include "prism/launch/memory_command.h"

namespace prism::launch {

/// Which program starts the ranks.
enum class LauncherKind {
  kAuto,    ///< srun inside a Slurm allocation (SLURM_JOB_ID set), mpirun outside one.
  kSrun,    ///< srun --mpi=pmix (direct launch; needs an allocation).
  kMpirun,  ///< Open MPI's mpirun (inside an allocation it takes the allocation's nodes).
};

/// What `prism launch` was asked to do. An unset optional lets the launcher decide (srun: the
/// allocation's values; mpirun: one slot per core of this host).
struct LaunchOptions {
  std::optional<int> ranks;              ///< -n/--ranks: ranks in the job (rank 0 is the driver).
  std::optional<int> nodes;              ///< -N/--nodes: nodes to spread the ranks over.
  std::optional<int> ranks_per_node;     ///< --ranks-per-node.
  std::optional<int> cpus_per_rank;      ///< --cpus-per-rank: CPUs (worker slots) of each rank.
  std::optional<int> gpus_per_rank;      ///< --gpus-per-rank (Slurm gres).
  std::optional<double> head_cpus;       ///< --head-cpus: CPUs of the driver's own scheduler.
  std::vector<std::string> hosts;        ///< --hosts a,b: hosts for mpirun.
  std::optional<std::string> srun_mpi;   ///< --mpi: srun's --mpi plugin.
  std::optional<std::string> resources;  ///< --resources: PRISM_RESOURCES (checked at Init).
  LauncherKind launcher = LauncherKind::kAuto;  ///< --launcher.
  bool dry_run = false;                         ///< --dry-run: print the command, run nothing.
  bool oversubscribe = false;                   ///< --oversubscribe: more ranks than CPUs.
  /// mpirun --enable-recovery: --recovery / --no-recovery; unset: on outside a Slurm
  /// allocation, off inside one (there it can hang mpirun: docs/launching.md).
  std::optional<bool> recovery;
  /// --kill-wait: seconds mpirun waits between SIGTERM and SIGKILL when it ends the job
  /// (unset: mpirun's own 1 s).
  std::optional<int> kill_wait_s;
  std::vector<std::string> launcher_args;  ///< --launcher-arg (repeatable), passed as is.
  std::vector<std::string> command;        ///< The program and its arguments.
};

/// `prism rank-exec`: the per-rank wrapper that reports rank 0's exit status to the launcher.
struct RankExecOptions {
  std::string status_dir;
  std::vector<std::string> command;
};

/// One parsed command line.
struct CommandLine {
  enum class Kind { kHelp, kLaunchHelp, kLaunch, kRankExec, kMemory, kMemoryHelp };
  Kind kind = Kind::kHelp;
  LaunchOptions launch;
  RankExecOptions rank_exec;
  MemoryOptions memory;
};

/// Parses the arguments after argv[0]. kInvalidArgument names the flag at fault
/// ("--ranks: must be at least 1 (got 0)", "unknown option '--foo'", "unknown command 'x'").
///
///   auto line = ParseCommandLine({"launch", "-n", "4", "--", "./app", "32"});
///   // line->kind == kLaunch, line->launch.ranks == 4, line->launch.command == {"./app", "32"}
///
/// Thread-safe (a pure function).
Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

/// `prism --help` and `prism launch --help`.
std::string MainHelp();
/// `prism memory --help`.
std::string MemoryHelp();
std::string LaunchHelp();

}  // namespace prism::launch
