#include "prism/launch/rank_status.h"

#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "prism/launch/launcher_process.h"

namespace prism::launch {
namespace {

constexpr const char* kFileName = "rank-0.status";

// The wrapper only waits; the program gets every signal from its process group.
void IgnoreButKeepDefaultInChild(int) {}

std::optional<long> EnvNumber(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end != '\0') return std::nullopt;
  return value;
}

}  // namespace

Status WriteRankZeroStatus(const std::string& status_dir, int wait_status) {
  std::string line = WIFSIGNALED(wait_status) ? "signal " + std::to_string(WTERMSIG(wait_status))
                                              : "exit " + std::to_string(ShellStatus(wait_status));
  std::string path = status_dir + "/" + kFileName;
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp);
    out << line << "\n";
    if (!out) return MakeError(ErrorCode::kIoError, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return MakeError(ErrorCode::kIoError, "rename to " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Result<std::optional<int>> ReadRankZeroStatus(const std::string& status_dir) {
  std::string path = status_dir + "/" + kFileName;
  std::ifstream in(path);
  if (!in) return std::optional<int>();
  std::string kind;
  long value = -1;
  std::string rest;
  in >> kind >> value;
  bool junk = static_cast<bool>(in >> rest);
  if (junk || value < 0 || value > 255 || (kind != "exit" && kind != "signal")) {
    return MakeError(ErrorCode::kMalformed, path + ": not \"exit N\" or \"signal N\"");
  }
  return std::optional<int>(kind == "exit" ? static_cast<int>(value)
                                           : 128 + static_cast<int>(value));
}

int RunRankExec(const RankExecOptions& options) {
  std::vector<char*> args;
  for (const std::string& a : options.command) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    std::fprintf(stderr, "prism rank-exec: fork: %s\n", std::strerror(errno));
    return 127;
  }
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(128 + SIGKILL);
    execvp(args[0], args.data());
    std::fprintf(stderr, "prism rank-exec: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  // A handler (not SIG_IGN, which the program would inherit) that does nothing: mpirun signals
  // the rank's process group, so the program gets these itself.
  for (int sig : kForwardedSignals) std::signal(sig, IgnoreButKeepDefaultInChild);
  std::signal(SIGALRM, IgnoreButKeepDefaultInChild);
  int wait_status = 0;
  while (waitpid(child, &wait_status, 0) < 0) {
    if (errno != EINTR) {
      std::fprintf(stderr, "prism rank-exec: waitpid: %s\n", std::strerror(errno));
      return 127;
    }
  }
  std::optional<long> rank = EnvNumber("OMPI_COMM_WORLD_RANK");
  if (!rank) rank = EnvNumber("PMIX_RANK");
  struct stat st;
  if (rank == 0 && stat(options.status_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    Status written = WriteRankZeroStatus(options.status_dir, wait_status);
    if (!written) std::fprintf(stderr, "prism rank-exec: %s\n", written.ToString().c_str());
  }
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    std::signal(sig, SIG_DFL);
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, sig);
    sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
    std::raise(sig);
  }
  return ShellStatus(wait_status);
}

}  // namespace prism::launch
