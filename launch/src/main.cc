// prism: the command-line entry point (`prism launch`, `prism --help`). The logic lives in the
// prism::launch library; this file only wires it to the process.

#include <stdlib.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "prism/launch/launch_options.h"
#include "prism/launch/launch_plan.h"
#include "prism/launch/launcher_process.h"
#include "prism/launch/memory_command.h"
#include "prism/launch/rank_status.h"

namespace {

constexpr int kUsageError = 2;
constexpr int kCannotRun = 127;

// A private directory for rank 0's status file ("" when it cannot be made).
std::string MakeStatusDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/prism-launch.XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (mkdtemp(buffer.data()) == nullptr) return "";
  return buffer.data();
}

int Launch(const prism::launch::LaunchOptions& options) {
  namespace pl = prism::launch;
  auto host = pl::LaunchHost::Detect();
  if (!host) {
    std::cerr << "prism launch: " << host.error().message << "\n";
    return kUsageError;
  }
  bool mpirun = options.launcher == pl::LauncherKind::kMpirun ||
                (options.launcher == pl::LauncherKind::kAuto && !host->slurm);
  if (mpirun && options.recovery.value_or(!host->slurm)) {
    host->status_dir = options.dry_run ? "${TMPDIR:-/tmp}/prism-launch.XXXXXX" : MakeStatusDir();
  }
  auto plan = pl::PlanLaunch(options, *host);
  if (!plan) {
    if (!options.dry_run && !host->status_dir.empty()) std::filesystem::remove(host->status_dir);
    std::cerr << "prism launch: " << plan.error().message << "\n";
    return kUsageError;
  }
  if (options.dry_run) {
    std::cout << pl::FormatCommand(*plan) << "\n";
    return 0;
  }
  auto status = pl::RunLauncher(plan->argv, plan->env);
  int result = kCannotRun;
  if (!status) {
    std::cerr << "prism launch: " << status.error().message << "\n";
  } else {
    result = *status;
    if (plan->status_dir) {
      // mpirun --enable-recovery exits 0 whatever the ranks did: the job's status is the
      // driver's, when its wrapper could report it.
      auto rank_zero = pl::ReadRankZeroStatus(*plan->status_dir);
      if (!rank_zero) {
        std::cerr << "prism launch: " << rank_zero.error().message << "\n";
      } else if (*rank_zero && **rank_zero != 0) {
        result = **rank_zero;
      }
    }
  }
  if (!host->status_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(host->status_dir, ec);
  }
  return result;
}

int Memory(const prism::launch::MemoryOptions& options) {
  namespace pl = prism::launch;
  std::string session = options.session;
  if (session.empty()) {
    auto found = pl::FindRunningSession(pl::DefaultSessionRoot());
    if (!found) {
      std::cerr << "prism memory: " << found.error().message << "\n";
      return 1;
    }
    session = *found;
  }
  auto text = pl::RequestMemorySummary(session, options.timeout_s);
  if (!text) {
    std::cerr << "prism memory: " << text.error().message << "\n";
    return 1;
  }
  std::cout << "session " << session << "\n" << *text;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace pl = prism::launch;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto line = pl::ParseCommandLine(args);
  if (!line) {
    std::cerr << "prism: " << line.error().message << "\n";
    return kUsageError;
  }
  switch (line->kind) {
    case pl::CommandLine::Kind::kHelp:
      std::cout << pl::MainHelp();
      return 0;
    case pl::CommandLine::Kind::kLaunchHelp:
      std::cout << pl::LaunchHelp();
      return 0;
    case pl::CommandLine::Kind::kRankExec:
      return pl::RunRankExec(line->rank_exec);
    case pl::CommandLine::Kind::kLaunch:
      return Launch(line->launch);
    case pl::CommandLine::Kind::kMemoryHelp:
      std::cout << pl::MemoryHelp();
      return 0;
    case pl::CommandLine::Kind::kMemory:
      return Memory(line->memory);
  }
  return kUsageError;
}
