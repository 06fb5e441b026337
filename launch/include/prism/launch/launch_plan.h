#pragma once
/// PlanLaunch: the exact srun or mpirun command line (and environment) that starts a Prism job,
/// built from the options and the facts about this host, as a pure function.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "prism/common/result.h"
#include "prism/launch/launch_host.h"
#include "prism/launch/launch_options.h"

namespace prism::launch {

/// A launcher command ready to run.
struct LaunchPlan {
  LauncherKind launcher = LauncherKind::kMpirun;  ///< kSrun or kMpirun.
  std::vector<std::string> argv;                  ///< argv[0] is "srun" or "mpirun".
  /// Variables set for the launcher, which passes them on to the ranks.
  std::vector<std::pair<std::string, std::string>> env;
  bool oversubscribed = false;  ///< --oversubscribe / --overcommit was added.
  /// Set when rank 0 runs under `prism rank-exec` and reports its exit status here.
  std::optional<std::string> status_dir;
};

/// Builds the launcher command. Under srun:
///   srun --mpi=pmix [-n N] [-N M] [--ntasks-per-node=K] [-c C] [--gpus-per-task=G]
///        --cpu-bind=none --kill-on-bad-exit=0 --no-kill --quit-on-interrupt [--overcommit] app
/// Under mpirun:
///   mpirun [--allow-run-as-root] --bind-to none [--oversubscribe] [--enable-recovery]
///          [--mca odls_base_sigkill_timeout S] [-n N] [--host h1:K,h2:K] [-x VAR ...]
///          [prism rank-exec --status-dir D --] app
/// Errors (kInvalidArgument) name the flag: srun outside an allocation, --hosts under srun,
/// --nodes beyond the allocation or the hosts, -n above nodes x ranks-per-node, --gpus-per-rank
/// without Slurm.
///
///   LaunchOptions o; o.ranks = 4; o.command = {"./app"};
///   LaunchHost host; host.cpu_count = 2;
///   auto plan = PlanLaunch(o, host);  // mpirun --bind-to none --oversubscribe ... -n 4 ./app
///
/// Thread-safe (a pure function).
Result<LaunchPlan> PlanLaunch(const LaunchOptions& options, const LaunchHost& host);

/// The plan as one shell line: "PRISM_HEAD_CPUS=0 srun --mpi=pmix ... ./app 'a b'", each
/// word quoted when the shell would otherwise split or expand it.
std::string FormatCommand(const LaunchPlan& plan);

/// One word quoted for a POSIX shell (unchanged when it needs no quoting).
std::string ShellQuote(const std::string& word);

}  // namespace prism::launch
