#include "prism/common/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <map>
#include <memory>
#include <mutex>

namespace prism::log {
namespace {

// All component loggers write into one distributing sink, so Configure() can swap the real
// sinks underneath without touching loggers that other threads are using.
struct Registry {
  std::mutex mu;
  std::shared_ptr<spdlog::sinks::dist_sink_mt> dist =
      std::make_shared<spdlog::sinks::dist_sink_mt>();
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  spdlog::level::level_enum level = spdlog::level::warn;

  Registry() {
    auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    console->set_pattern("[%H:%M:%S.%e] [prism] [%n] [%l] %v");
    console->set_level(spdlog::level::warn);
    dist->add_sink(console);
  }
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed: loggers outlive static dtors
  return *registry;
}

}  // namespace

spdlog::logger& Get(std::string_view component) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.loggers.find(component);
  if (it == r.loggers.end()) {
    auto logger = std::make_shared<spdlog::logger>(std::string(component), r.dist);
    logger->set_level(r.level);
    logger->flush_on(spdlog::level::err);
    it = r.loggers.emplace(std::string(component), std::move(logger)).first;
  }
  return *it->second;
}

Status Configure(const LogOptions& options) {
  Registry& r = GetRegistry();
  std::string rank_tag = options.rank >= 0 ? "[rank " + std::to_string(options.rank) + "] " : "";
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_pattern("[%H:%M:%S.%e] [prism] " + rank_tag + "[%n] [%l] %v");
  console->set_level(options.console_level);
  sinks.push_back(console);
  if (!options.file.empty()) {
    try {
      auto file =
          std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file, /*truncate=*/false);
      file->set_pattern("[%Y-%m-%d %H:%M:%S.%f] " + rank_tag + "[%n] [%l] [tid %t] %v");
      file->set_level(options.file_level);
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      return MakeError(ErrorCode::kIoError,
                       "cannot open log file " + options.file + ": " + e.what());
    }
  }
  std::lock_guard lock(r.mu);
  r.dist->set_sinks(std::move(sinks));
  r.level = std::min(options.console_level,
                     options.file.empty() ? options.console_level : options.file_level);
  for (auto& [name, logger] : r.loggers) logger->set_level(r.level);
  return Status::Ok();
}

Result<spdlog::level::level_enum> ParseLevel(std::string_view text) {
  static const std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [name, level] : kLevels) {
    if (name == text) return level;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown log level '" + std::string(text) +
                       "' (expected trace, debug, info, warn, error, critical or off)");
}

void Flush() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.dist->flush();
}

}  // namespace prism::log
