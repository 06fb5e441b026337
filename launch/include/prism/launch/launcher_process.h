#pragma once
/// RunLauncher: runs srun/mpirun as a child in its own process group, forwards the job-control
/// signals to that group, and returns how it ended.

#include <string>
#include <utility>
#include <vector>

#include "prism/common/result.h"

namespace prism::launch {

/// The signals `prism launch` forwards to the launcher's process group.
inline constexpr int kForwardedSignals[] = {2 /*SIGINT*/,   15 /*SIGTERM*/, 1 /*SIGHUP*/,
                                            10 /*SIGUSR1*/, 12 /*SIGUSR2*/, 3 /*SIGQUIT*/};

/// A wait() status as a shell reports it: the exit code, or 128 + N for death by signal N.
int ShellStatus(int wait_status);

/// Starts argv[0] (looked up in PATH) with `env` added to this environment, in a new process
/// group (the terminal's foreground group when stdin is this process's terminal), and waits
/// for it. SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2 and SIGQUIT that reach this process are
/// sent to the child's whole group. The child gets SIGTERM if this process dies first.
/// Returns ShellStatus of the child; kNotFound when argv[0] cannot be executed (the message
/// names it), kIoError when fork fails.
///
///   auto status = RunLauncher({"mpirun", "-n", "2", "./app"}, {{"PRISM_HEAD_CPUS", "0"}});
///   return status ? *status : 127;
///
/// Thread contract: call from the main thread of a single-threaded process (it changes the
/// signal mask and waits for any child).
Result<int> RunLauncher(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& env);

}  // namespace prism::launch
