#pragma once
/// SystemConfig: every tunable of Prism (listed in config_def.h) with its value for this process.
///
///   auto config = SystemConfig::Load(overrides);     // defaults < env < overrides
///   if (!config) { report(config.error()); }
///   int64_t limit = config->max_inline_bytes;
///
/// An invalid value is an error that names the variable and the value.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "prism/common/result.h"

namespace prism {

/// Values of all tunables. Plain data; copy freely.
struct SystemConfig {
#define PRISM_CONFIG(type, name, default_value, description) type name = default_value;
#include "prism/common/config_def.h"
#undef PRISM_CONFIG

  /// Reads PRISM_* variables from `getenv` (the process environment by default), then applies
  /// `overrides` (tunable name -> text). Unknown names in `overrides` are errors; unknown PRISM_*
  /// variables are reported in `warnings`.
  static Result<SystemConfig> Load(const std::map<std::string, std::string>& overrides = {},
                                   std::vector<std::string>* warnings = nullptr,
                                   const std::function<const char*(const char*)>& getenv = nullptr);

  /// Sets one tunable from text; `origin` names where the text came from, for the error.
  Status Set(const std::string& name, const std::string& text, const std::string& origin);

  /// "name=value" lines for every tunable (logged at startup).
  std::string Describe() const;

  /// Checks cross-field and range rules.
  Status Validate() const;
};

/// The environment variable of a tunable: "num_cpus" -> "PRISM_NUM_CPUS".
std::string ConfigEnvName(const std::string& name);

/// Names of all tunables, in definition order.
const std::vector<std::string>& ConfigNames();

}  // namespace prism
