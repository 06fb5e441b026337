#pragma once
/// `prism memory`: a running job's memory summary, from the command line (Ray's `ray memory`).
///
/// The job's driver (rank 0) answers through its session directory: this command writes
/// `<session>/memory.request`, the driver gathers prism::MemorySummary() from every rank and
/// writes `<session>/memory.txt` (runtime/src/memory_file_service.h). By default the session is
/// the newest one of this user whose status is `running`, under the session root the runtime
/// uses (`PRISM_SESSION_ROOT`, else `$TMPDIR`, else /tmp, then `prism-<user>`).
///
///   auto session = FindRunningSession(DefaultSessionRoot());
///   auto text = RequestMemorySummary(*session, /*timeout_s=*/10);
///
/// Thread contract: thread-safe (no shared state); blocking.

#include <string>

#include "prism/common/result.h"

namespace prism::launch {

/// Options of `prism memory`.
struct MemoryOptions {
  std::string session;    ///< --session DIR; empty: the newest running one.
  double timeout_s = 10;  ///< --timeout: how long to wait for the driver's answer.
};

/// `<PRISM_SESSION_ROOT | $TMPDIR | /tmp>/prism-<user>`.
std::string DefaultSessionRoot();

/// The newest session directory under `root` whose `status` file says `running`; kNotFound
/// naming `root` when there is none.
Result<std::string> FindRunningSession(const std::string& root);

/// Asks the driver of the job in `session_dir` for its memory summary and returns the text;
/// kTimeout when no answer came within `timeout_s` (the job ended, or is not a Prism job).
Result<std::string> RequestMemorySummary(const std::string& session_dir, double timeout_s);

}  // namespace prism::launch
