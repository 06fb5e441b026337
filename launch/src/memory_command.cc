#include "prism/launch/memory_command.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "prism/common/session_root.h"

namespace prism::launch {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string DefaultSessionRoot() {
  const char* root = std::getenv("PRISM_SESSION_ROOT");
  return UserSessionRoot(root != nullptr ? root : "");
}

Result<std::string> FindRunningSession(const std::string& root) {
  std::error_code ec;
  fs::path newest;
  fs::file_time_type newest_time;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    if (!entry.is_directory() || entry.path().filename().string().rfind("session_", 0) != 0)
      continue;
    fs::path status = entry.path() / "status";
    if (ReadFile(status).rfind("running", 0) != 0) continue;
    auto when = fs::last_write_time(status, ec);
    if (ec) continue;
    if (newest.empty() || when > newest_time) {
      newest = entry.path();
      newest_time = when;
    }
  }
  if (newest.empty()) {
    return MakeError(ErrorCode::kNotFound,
                     "no running Prism job of this user under " + root +
                         " (give --session DIR, or set PRISM_SESSION_ROOT as the job did)");
  }
  return newest.string();
}

Result<std::string> RequestMemorySummary(const std::string& session_dir, double timeout_s) {
  fs::path dir(session_dir);
  fs::path request = dir / "memory.request";
  fs::path answer = dir / "memory.txt";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return MakeError(ErrorCode::kNotFound, "no session directory " + session_dir);
  }
  fs::remove(answer, ec);
  {
    std::ofstream out(request);
    if (!out) {
      return MakeError(ErrorCode::kIoError, "cannot write " + request.string());
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(answer, ec)) return ReadFile(answer);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  fs::remove(request, ec);
  return MakeError(ErrorCode::kTimeout, "the job in " + session_dir + " did not answer within " +
                                            std::to_string(timeout_s) + " s (has it ended?)");
}

}  // namespace prism::launch
