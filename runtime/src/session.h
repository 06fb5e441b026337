#pragma once
// The job's identity and session directory, decided by rank 0 and shared with every rank.
//
// Session directories are keyed by user and job: <root>/session_<date>_<time>_<job id>/ with
// logs/rank-<N>.log inside, where <root> is PRISM_SESSION_ROOT or ${TMPDIR:-/tmp}/prism-<user>.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "prism/common/config.h"
#include "prism/common/ids.h"
#include "prism/common/result.h"

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

/// A random version-4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx").
std::string RandomUuid();

}  // namespace prism::runtime
