#pragma once
// The job's identity and session directory, decided by rank 0 and shared with every rank.
//
// Session directories are keyed by user and job, so that users and jobs sharing a node never
// collide (docs/placement.md):
//   <root>/prism-<user>/session_<launcher job>_<date>_<time>_<job id>/
//     logs/rank-<N>.log   kept: the job's record
//     job_info, status    kept (written by rank 0; survivors of a dead driver write status)
//     spill/rank-<N>/     rank N's spilled objects (default spill_dir); removed whenever the
//                         rank leaves, and by the survivors on its host when the driver dies
// <root> is PRISM_SESSION_ROOT or ${TMPDIR:-/tmp}; <launcher job> is slurm-<job>.<step>,
// ompi-<jobid>, pmix-<namespace> or local.

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "prism/common/config.h"
#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/common/session_root.h"

namespace prism::runtime {

struct JobInfo {
  JobId job_id;
  std::string job_namespace;
  std::string session_dir;

  std::vector<std::byte> Encode() const;
  static Result<JobInfo> Decode(std::span<const std::byte> bytes);
};

/// Rank 0's choice: a fresh job id, the namespace (or an anonymous UUID), the session path.
JobInfo MakeJobInfo(const SystemConfig& config, const std::string& job_namespace);

/// Creates `dir` and its parents (mode 0700 for what it creates).
Status MakeDirectories(const std::string& dir);

/// Names the launcher's job for the session path: "slurm-<SLURM_JOB_ID>[.<SLURM_STEP_ID>]",
/// "ompi-<OMPI_MCA_ess_base_jobid>", "pmix-<PMIX_NAMESPACE>" (characters other than letters,
/// digits, '.', '-' become '_'), or "local".
std::string LauncherJobKey(const std::function<const char*(const char*)>& get_env = std::getenv);

/// <session>/spill/rank-<N>: where rank N spills objects by default.
std::string SpillDir(const JobInfo& job, Rank rank);

/// Creates <session>/logs (mode 0700). kIoError when a directory cannot be made, or when
/// <root>/prism-<user> belongs to someone else (another user must not own our files).
Status CreateSessionDirectories(const JobInfo& job);

/// Removes a rank's files: its spill directories `dirs` with everything in them, and
/// <session>/spill once it is empty. Logs, job_info and status stay. Safe to call more than
/// once and from several ranks at the same time.
void RemoveRankFiles(const JobInfo& job, const std::vector<std::string>& dirs);

/// `dirs` of rank `from` (each ending in "rank-<from>") as rank `to` names them: the survivors
/// of a dead driver find its spill directories on their host this way.
std::vector<std::string> RenameRankDirs(const std::vector<std::string>& dirs, Rank from, Rank to);

/// A random version-4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx").
std::string RandomUuid();

}  // namespace prism::runtime
