#pragma once
/// Rank 0's exit status, handed from the per-rank wrapper (`prism rank-exec`) to `prism launch`
/// through a file, because `mpirun --enable-recovery` exits 0 whatever its ranks did.

#include <optional>
#include <string>

#include "prism/common/result.h"
#include "prism/launch/launch_options.h"

namespace prism::launch {

/// Runs the command as a child (dying with it: PR_SET_PDEATHSIG), waits, and when this process
/// is MPI rank 0 (OMPI_COMM_WORLD_RANK, else PMIX_RANK) writes its status to
/// `<status_dir>/rank-0.status` ("exit 3" or "signal 9") if that directory exists on this host.
/// Signals that reach this wrapper are not passed on: mpirun signals a rank's whole process
/// group, so the program already has them. Returns like the program: its exit code, or it
/// dies of the same signal. 127 when the program cannot be started.
int RunRankExec(const RankExecOptions& options);

/// Reads `<status_dir>/rank-0.status` as a shell status (exit code or 128 + signal); nullopt
/// when it is absent (rank 0 ran on another host, or was killed with its wrapper).
/// kMalformed when the file holds something else.
Result<std::optional<int>> ReadRankZeroStatus(const std::string& status_dir);

/// Writes the status file (atomically: a temporary file renamed into place).
Status WriteRankZeroStatus(const std::string& status_dir, int wait_status);

}  // namespace prism::launch
