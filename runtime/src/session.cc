#include "session.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

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

std::string UserName() {
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr)
    return pw->pw_name;
  return "uid" + std::to_string(geteuid());
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
  std::string root = config.session_root;
  if (root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    root = fmt::format("{}/prism-{}", tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", UserName());
  }
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  char stamp[64];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d_%H-%M-%S", &tm);
  info.session_dir = fmt::format("{}/session_{}_{:06d}_{}", root, stamp, micros, info.job_id.Hex());
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

}  // namespace prism::runtime
