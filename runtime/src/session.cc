#include "session.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "prism/common/wire.h"

namespace prism::runtime {
namespace {

uint64_t RandomU64() {
  static thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }());
  return rng();
}

}  // namespace

std::string RandomUuid() {
  uint64_t a = RandomU64();
  uint64_t b = RandomU64();
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                     b >> 48, b & 0xffffffffffffULL);
}

JobInfo MakeJobInfo(const SystemConfig& config, const std::string& job_namespace) {
  JobInfo info;
  do {
    info.job_id.value = RandomU64();
  } while (info.job_id.IsNil());
  info.job_namespace = job_namespace.empty() ? RandomUuid() : job_namespace;
  std::string root = UserSessionRoot(config.session_root);
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
  info.session_dir = fmt::format("{}/session_{}_{}_{:06d}_{}", root, LauncherJobKey(), stamp,
                                 micros, info.job_id.Hex());
  return info;
}

std::vector<std::byte> JobInfo::Encode() const {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(job_id.value);
  w.String(job_namespace);
  w.String(session_dir);
  return out;
}

Result<JobInfo> JobInfo::Decode(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  JobInfo info;
  info.job_id.value = r.U64();
  info.job_namespace = r.String();
  info.session_dir = r.String();
  if (!r.AtEnd()) return MakeError(ErrorCode::kMalformed, "malformed job info from rank 0");
  return info;
}

Status MakeDirectories(const std::string& dir) {
  std::string path;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return MakeError(ErrorCode::kIoError,
                       fmt::format("cannot create directory {}: {}", path, std::strerror(errno)));
    }
  }
  return Status::Ok();
}

std::string LauncherJobKey(const std::function<const char*(const char*)>& get_env) {
  auto value = [&](const char* name) -> std::string {
    const char* v = get_env(name);
    return v != nullptr ? v : "";
  };
  auto clean = [](std::string text) {
    for (char& c : text) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
    }
    return text.substr(0, 64);
  };
  std::string slurm = value("SLURM_JOB_ID");
  if (slurm.empty()) slurm = value("SLURM_JOBID");
  if (!slurm.empty()) {
    std::string step = value("SLURM_STEP_ID");
    if (step.empty()) step = value("SLURM_STEPID");
    return clean("slurm-" + slurm + (step.empty() ? "" : "." + step));
  }
  if (std::string ompi = value("OMPI_MCA_ess_base_jobid"); !ompi.empty()) {
    return clean("ompi-" + ompi);
  }
  if (std::string pmix = value("PMIX_NAMESPACE"); !pmix.empty()) return clean("pmix-" + pmix);
  return "local";
}

std::string SpillDir(const JobInfo& job, Rank rank) {
  return fmt::format("{}/spill/rank-{}", job.session_dir, rank);
}

Status CreateSessionDirectories(const JobInfo& job) {
  if (Status s = MakeDirectories(job.session_dir + "/logs"); !s) return s;
  // The session lies below <root>/prism-<user>: it must be ours.
  std::string user_dir = job.session_dir.substr(0, job.session_dir.rfind('/'));
  struct stat st {};
  if (stat(user_dir.c_str(), &st) == 0 && st.st_uid != geteuid()) {
    return MakeError(ErrorCode::kIoError,
                     fmt::format("session directory {} belongs to uid {}, not to this user (uid "
                                 "{}); set PRISM_SESSION_ROOT elsewhere",
                                 user_dir, st.st_uid, geteuid()));
  }
  return Status::Ok();
}

void RemoveRankFiles(const JobInfo& job, const std::vector<std::string>& dirs) {
  std::error_code ignored;  // already gone, or removed by another rank at the same moment
  for (const std::string& dir : dirs) {
    if (!dir.empty()) std::filesystem::remove_all(dir, ignored);
  }
  // Only when empty: other ranks of this host may still spill there.
  if (!job.session_dir.empty()) std::filesystem::remove(job.session_dir + "/spill", ignored);
}

std::vector<std::string> RenameRankDirs(const std::vector<std::string>& dirs, Rank from, Rank to) {
  std::vector<std::string> out;
  std::string suffix = fmt::format("rank-{}", from);
  for (const std::string& dir : dirs) {
    if (dir.size() >= suffix.size() && dir.ends_with(suffix)) {
      out.push_back(dir.substr(0, dir.size() - suffix.size()) + fmt::format("rank-{}", to));
    }
  }
  return out;
}

}  // namespace prism::runtime
