#include "prism/launch/launcher_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

namespace prism::launch {

int ShellStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

Result<int> RunLauncher(const std::vector<std::string>& argv,
                        const std::vector<std::pair<std::string, std::string>>& env) {
  if (argv.empty()) return MakeError(ErrorCode::kInvalidArgument, "RunLauncher: empty argv");
  // Every forwarded signal and SIGCHLD are blocked and taken with sigwaitinfo: no handler, no
  // race between a signal and the child's exit.
  sigset_t waited;
  sigemptyset(&waited);
  for (int sig : kForwardedSignals) sigaddset(&waited, sig);
  sigaddset(&waited, SIGCHLD);
  sigset_t old_mask;
  sigprocmask(SIG_BLOCK, &waited, &old_mask);

  // The child reports a failed exec through a close-on-exec pipe.
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    return MakeError(ErrorCode::kIoError, std::string("pipe: ") + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    int err = errno;
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    return MakeError(ErrorCode::kIoError, std::string("fork: ") + std::strerror(err));
  }
  if (child == 0) {
    close(pipe_fds[0]);
    setpgid(0, 0);
    // If `prism` is killed, the launcher gets SIGTERM and ends the job.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(128 + SIGTERM);
    for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    execvp(args[0], args.data());
    int err = errno;
    ssize_t ignored = write(pipe_fds[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  close(pipe_fds[1]);
  setpgid(child, child);  // also here: whichever runs first, the group exists before a kill
  // On a terminal the launcher's group becomes the foreground one, so that it may read stdin
  // (mpirun forwards it to rank 0) and Ctrl-C reaches it directly.
  bool took_terminal = false;
  if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp()) {
    std::signal(SIGTTOU, SIG_IGN);
    took_terminal = tcsetpgrp(STDIN_FILENO, child) == 0;
  }
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(pipe_fds[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  close(pipe_fds[0]);

  int wait_status = 0;
  while (true) {
    siginfo_t info;
    int sig = sigwaitinfo(&waited, &info);
    if (sig < 0) continue;  // EINTR
    if (sig == SIGCHLD) {
      pid_t done = waitpid(child, &wait_status, WNOHANG);
      if (done == child) break;
      continue;
    }
    kill(-child, sig);
  }
  if (took_terminal) tcsetpgrp(STDIN_FILENO, getpgrp());
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    return MakeError(ErrorCode::kNotFound,
                     "cannot run " + argv[0] + ": " + std::strerror(exec_errno));
  }
  return ShellStatus(wait_status);
}

}  // namespace prism::launch
