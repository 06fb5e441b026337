#pragma once
/// Logging: one spdlog logger per component, every line tagged with the rank.
///
/// Before Configure() lines go to stderr; after it, to stderr (warnings and up by default) and
/// to the rank's own file in the job's session directory.
///
///   static spdlog::logger& Log() { static auto& l = prism::log::Get("transport"); return l; }
///   Log().warn("peer {} died: {}", rank, why);
///
/// Thread-safe.

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "prism/common/result.h"

namespace prism::log {

/// Where and how much to log.
struct LogOptions {
  int rank = -1;                                                  ///< -1: not known yet.
  std::string file;                                               ///< Empty: no file.
  spdlog::level::level_enum file_level = spdlog::level::info;     ///< PRISM_LOG_LEVEL
  spdlog::level::level_enum console_level = spdlog::level::warn;  ///< PRISM_LOG_CONSOLE_LEVEL
};

/// The logger of a component ("transport", "runtime", ...); created on first use, never freed.
spdlog::logger& Get(std::string_view component);

/// Points every component logger at the sinks described by `options`.
Status Configure(const LogOptions& options);

/// Parses "trace|debug|info|warn|error|critical|off".
Result<spdlog::level::level_enum> ParseLevel(std::string_view text);

/// Flushes all sinks (before exit, or after an error that may precede a crash).
void Flush();

}  // namespace prism::log
