#pragma once
// SignalWatcher: turns shutdown signals (SIGTERM; Slurm's --signal warning, SIGUSR1/SIGUSR2 by
// default) into a call on an ordinary thread. The handler only writes the signal number to a
// self-pipe (async-signal-safe); the watcher thread reads it and calls `on_signal` once, where
// the runtime may lock, log and shut down.
//
// Thread contract: Start/Stop from one thread; `on_signal` runs on the watcher thread
// ("prism-signals"). One watcher per process (signal dispositions are process-wide).

#include <signal.h>

#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "prism/common/result.h"

namespace prism::runtime {

/// Parses "TERM,USR1,SIGUSR2,15" (names with or without SIG, or numbers) into signal numbers.
/// "" is no signal. kInvalidArgument names the setting and the bad entry; SIGKILL and SIGSTOP
/// cannot be caught and are errors too.
Result<std::vector<int>> ParseSignalList(std::string_view text);

/// "SIGTERM" for 15.
std::string SignalName(int signal);

class SignalWatcher {
 public:
  /// Installs the handlers and starts the thread. kInternal when a handler cannot be installed
  /// or a watcher already runs in this process.
  static Result<std::unique_ptr<SignalWatcher>> Start(std::vector<int> signals,
                                                      std::function<void(int)> on_signal);
  /// Restores the previous handlers and joins the thread. Never call it from `on_signal`.
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  SignalWatcher() = default;
  void Run();

  std::vector<int> signals_;
  std::vector<std::pair<int, struct sigaction>> previous_;  // restored by the destructor
  std::function<void(int)> on_signal_;
  std::thread thread_;
};

}  // namespace prism::runtime
