#pragma once
// MemoryFileService: lets `prism memory` (another process, on the driver's node) read a running
// job's MemorySummary. On rank 0 a thread looks for `<session>/memory.request` every 200 ms;
// when one appears it removes it, gathers the summary from every rank and writes it to
// `<session>/memory.txt` (through a temporary file and a rename, so readers never see half of
// it). Files, not a socket: nothing listens on a port, and only the session's owner can ask
// (the session directory is the user's, mode 0700).
//
// Thread contract: Start/Stop from one thread.

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "memory_reporter.h"

namespace prism::runtime {

class MemoryFileService {
 public:
  MemoryFileService(MemoryReporter& reporter, std::string session_dir);
  ~MemoryFileService();
  MemoryFileService(const MemoryFileService&) = delete;
  MemoryFileService& operator=(const MemoryFileService&) = delete;

  void Start();
  void Stop();

  /// The request and answer files of a session (shared with the `prism memory` command).
  static std::string RequestPath(const std::string& session_dir);
  static std::string AnswerPath(const std::string& session_dir);

 private:
  void Run();

  MemoryReporter& reporter_;
  std::string session_dir_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace prism::runtime
