#include "memory_file_service.h"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("memory");
  return logger;
}

constexpr auto kPollPeriod = std::chrono::milliseconds(200);
constexpr int64_t kGatherTimeoutMs = 5000;

}  // namespace

std::string MemoryFileService::RequestPath(const std::string& session_dir) {
  return session_dir + "/memory.request";
}
std::string MemoryFileService::AnswerPath(const std::string& session_dir) {
  return session_dir + "/memory.txt";
}

MemoryFileService::MemoryFileService(MemoryReporter& reporter, std::string session_dir)
    : reporter_(reporter), session_dir_(std::move(session_dir)) {}

MemoryFileService::~MemoryFileService() { Stop(); }

void MemoryFileService::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "prism-mem-file");
    Run();
  });
}

void MemoryFileService::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MemoryFileService::Run() {
  std::string request = RequestPath(session_dir_);
  std::string answer = AnswerPath(session_dir_);
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, kPollPeriod, [this] { return stop_; })) {
    if (::access(request.c_str(), F_OK) != 0) continue;
    lock.unlock();
    std::error_code ignored;
    std::filesystem::remove(request, ignored);
    std::string text = reporter_.Collect(kGatherTimeoutMs).ToString();
    std::string temporary = answer + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << text;
    }
    if (std::rename(temporary.c_str(), answer.c_str()) != 0) {
      Log().warn("cannot write the memory summary to {}", answer);
    } else {
      Log().info("wrote the memory summary to {} (asked by prism memory)", answer);
    }
    lock.lock();
  }
}

}  // namespace prism::runtime
