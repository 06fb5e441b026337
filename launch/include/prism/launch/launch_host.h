#pragma once
/// LaunchHost: the facts about this host and process that decide the launcher's command line.

#include <optional>
#include <string>
#include <vector>

#include "prism/common/result.h"
#include "prism/slurm/environment.h"

namespace prism::launch {

/// What the launcher knows about where it runs; LaunchHost::Detect() reads the real values,
/// tests build one by hand.
struct LaunchHost {
  /// The Slurm job this process runs in (SLURM_JOB_ID set), else empty.
  std::optional<slurm::SlurmEnvironment> slurm;
  bool is_root = false;  ///< Effective uid 0: mpirun then needs --allow-run-as-root.
  int cpu_count = 1;     ///< CPUs this process may run on (its affinity mask).
  /// This `prism` binary, for the per-rank wrapper (`prism rank-exec`) under mpirun.
  std::string self_exe;
  /// Where the wrapper writes rank 0's exit status (mpirun with recovery); empty: no wrapper.
  std::string status_dir;
  /// PRISM_* and UCX_* variables set here; mpirun forwards them to other hosts with -x.
  std::vector<std::string> forwarded_env;

  /// Reads the environment, the effective uid, the affinity mask and /proc/self/exe.
  /// kInvalidArgument when a SLURM_* variable is malformed (naming it).
  static Result<LaunchHost> Detect();
};

}  // namespace prism::launch
