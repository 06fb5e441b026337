#include "signals.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

namespace prism::runtime {
namespace {

// The self-pipe; -1 when no watcher runs. Written by the handler, read by the watcher.
std::atomic<int> g_write_fd{-1};
int g_read_fd = -1;

constexpr std::pair<const char*, int> kNames[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"TERM", SIGTERM},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"ALRM", SIGALRM}, {"XCPU", SIGXCPU},
    {"KILL", SIGKILL}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"PIPE", SIGPIPE}};

void OnSignal(int signal) {
  int saved = errno;
  int fd = g_write_fd.load(std::memory_order_relaxed);
  if (fd >= 0) {
    auto byte = static_cast<unsigned char>(signal);
    ssize_t ignored = write(fd, &byte, 1);  // full pipe: a signal is already pending
    (void)ignored;
  }
  errno = saved;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

std::string SignalName(int signal) {
  for (const auto& [name, number] : kNames) {
    if (number == signal) return std::string("SIG") + name;
  }
  return "signal " + std::to_string(signal);
}

Result<std::vector<int>> ParseSignalList(std::string_view text) {
  std::vector<int> out;
  if (Trim(text).empty()) return out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string token = Trim(text.substr(start, comma - start));
    start = comma + 1;
    auto bad = [&](const char* why) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("shutdown_signals = \"{}\": \"{}\" {}", text, token, why));
    };
    if (token.empty()) return bad("is an empty entry");
    int number = -1;
    if (std::isdigit(static_cast<unsigned char>(token[0]))) {
      auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), number);
      if (ec != std::errc() || end != token.data() + token.size() || number < 1 || number >= 65) {
        return bad("is not a signal number");
      }
    } else {
      std::string name = token;
      for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (name.rfind("SIG", 0) == 0) name = name.substr(3);
      for (const auto& [known, value] : kNames) {
        if (name == known) number = value;
      }
      if (number < 0) return bad("is not a signal name Prism knows (TERM, INT, USR1, USR2, ...)");
    }
    if (number == SIGKILL || number == SIGSTOP) return bad("cannot be caught");
    if (std::find(out.begin(), out.end(), number) == out.end()) out.push_back(number);
  }
  return out;
}

Result<std::unique_ptr<SignalWatcher>> SignalWatcher::Start(std::vector<int> signals,
                                                            std::function<void(int)> on_signal) {
  if (g_write_fd.load() >= 0) {
    return MakeError(ErrorCode::kInternal, "a signal watcher already runs in this process");
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return MakeError(ErrorCode::kInternal,
                     fmt::format("signal watcher: pipe2 failed: {}", std::strerror(errno)));
  }
  g_read_fd = fds[0];
  g_write_fd.store(fds[1]);
  std::unique_ptr<SignalWatcher> watcher(new SignalWatcher());
  watcher->signals_ = std::move(signals);
  watcher->on_signal_ = std::move(on_signal);
  for (int signal : watcher->signals_) {
    struct sigaction action {};
    action.sa_handler = OnSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    struct sigaction previous {};
    if (sigaction(signal, &action, &previous) != 0) {
      return MakeError(ErrorCode::kInternal, fmt::format("cannot handle {}: {}", SignalName(signal),
                                                         std::strerror(errno)));
    }
    watcher->previous_.emplace_back(signal, previous);
  }
  watcher->thread_ = std::thread([w = watcher.get()] { w->Run(); });
  return watcher;
}

void SignalWatcher::Run() {
  pthread_setname_np(pthread_self(), "prism-signals");
  while (true) {
    pollfd pfd{g_read_fd, POLLIN, 0};
    if (poll(&pfd, 1, -1) < 0 && errno != EINTR) return;
    unsigned char byte = 0;
    ssize_t n = read(g_read_fd, &byte, 1);
    if (n == 1 && byte == 0) return;  // Stop
    if (n == 1) {
      on_signal_(byte);
      return;  // one shutdown per process; later signals only write to the pipe
    }
  }
}

SignalWatcher::~SignalWatcher() {
  for (const auto& [signal, previous] : previous_) sigaction(signal, &previous, nullptr);
  int fd = g_write_fd.exchange(-1);
  if (fd >= 0) {
    unsigned char stop = 0;
    ssize_t ignored = write(fd, &stop, 1);
    (void)ignored;
  }
  if (thread_.joinable()) thread_.join();
  if (fd >= 0) close(fd);
  if (g_read_fd >= 0) close(g_read_fd);
  g_read_fd = -1;
}

}  // namespace prism::runtime
