#include "prism/common/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

extern char** environ;

namespace prism {
namespace {

Status Invalid(const std::string& origin, const std::string& text, const std::string& expected) {
  return MakeError(ErrorCode::kInvalidArgument,
                   origin + "='" + text + "' is invalid: expected " + expected);
}

Status Parse(const std::string& text, const std::string& origin, int64_t* out) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0')
    return Invalid(origin, text, "an integer");
  *out = v;
  return Status::Ok();
}

Status Parse(const std::string& text, const std::string& origin, double* out) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0' || !std::isfinite(v)) {
    return Invalid(origin, text, "a number");
  }
  *out = v;
  return Status::Ok();
}

Status Parse(const std::string& text, const std::string& origin, bool* out) {
  std::string t = text;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  if (t == "1" || t == "true" || t == "yes" || t == "on") {
    *out = true;
  } else if (t == "0" || t == "false" || t == "no" || t == "off") {
    *out = false;
  } else {
    return Invalid(origin, text, "a boolean (1/0, true/false, yes/no, on/off)");
  }
  return Status::Ok();
}

Status Parse(const std::string& text, const std::string&, std::string* out) {
  *out = text;
  return Status::Ok();
}

std::string Show(const std::string& v) { return v; }
std::string Show(bool v) { return v ? "true" : "false"; }
template <typename T>
std::string Show(T v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

bool OneOf(const std::string& v, std::initializer_list<const char*> allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return v == a; });
}

}  // namespace

std::string ConfigEnvName(const std::string& name) {
  std::string env = "PRISM_";
  for (char c : name) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

const std::vector<std::string>& ConfigNames() {
  static const std::vector<std::string> kNames = {
#define PRISM_CONFIG(type, name, default_value, description) #name,
#include "prism/common/config_def.h"
#undef PRISM_CONFIG
  };
  return kNames;
}

Status SystemConfig::Set(const std::string& name, const std::string& text,
                         const std::string& origin) {
#define PRISM_CONFIG(type, field, default_value, description) \
  if (name == #field) return Parse(text, origin, &(field));
#include "prism/common/config_def.h"
#undef PRISM_CONFIG
  return MakeError(ErrorCode::kInvalidArgument, origin + ": unknown Prism setting '" + name + "'");
}

Result<SystemConfig> SystemConfig::Load(const std::map<std::string, std::string>& overrides,
                                        std::vector<std::string>* warnings,
                                        const std::function<const char*(const char*)>& getenv) {
  SystemConfig config;
  auto env = [&](const char* key) -> const char* {
    return getenv ? getenv(key) : std::getenv(key);
  };
  for (const std::string& name : ConfigNames()) {
    std::string var = ConfigEnvName(name);
    if (const char* value = env(var.c_str())) {
      if (Status s = config.Set(name, value, var); !s) return s.error();
    }
  }
  if (warnings != nullptr && !getenv) {
    // A mistyped PRISM_ variable would otherwise be silently ignored.
    // PRISM_TEST_*: reserved for the variables of Prism's own test harnesses.
    static const char* const kOtherKnown[] = {"PRISM_TEST_"};
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string entry(*e);
      if (entry.rfind("PRISM_", 0) != 0) continue;
      std::string var = entry.substr(0, entry.find('='));
      bool known = std::any_of(ConfigNames().begin(), ConfigNames().end(),
                               [&](const std::string& n) { return ConfigEnvName(n) == var; }) ||
                   std::any_of(std::begin(kOtherKnown), std::end(kOtherKnown),
                               [&](const char* k) { return var.rfind(k, 0) == 0; });
      if (!known)
        warnings->push_back("unknown environment variable " + var + " (not a Prism setting)");
    }
  }
  for (const auto& [name, text] : overrides) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    if (Status s = config.Set(key, text, "setting " + key); !s) return s.error();
  }
  if (Status s = config.Validate(); !s) return s.error();
  return config;
}

Status SystemConfig::Validate() const {
  auto bad = [](const char* name, const std::string& why) {
    return MakeError(ErrorCode::kInvalidArgument, ConfigEnvName(name) + " " + why);
  };
  if (num_cpus != -1.0 && num_cpus < 0)
    return bad("num_cpus", "must be -1 (auto) or >= 0, got " + Show(num_cpus));
  if (head_cpus != -1.0 && head_cpus < 0)
    return bad("head_cpus", "must be -1 (auto) or >= 0, got " + Show(head_cpus));
  if (max_worker_threads < 1) return bad("max_worker_threads", "must be >= 1");
  if (max_inline_bytes < 0) return bad("max_inline_bytes", "must be >= 0");
  if (rma_threshold_bytes < 0) return bad("rma_threshold_bytes", "must be >= 0");
  if (!OneOf(transfer_mode, {"auto", "get", "am"}))
    return bad("transfer_mode", "must be auto, get or am, got '" + transfer_mode + "'");
  const std::pair<const char*, const std::string*> levels[] = {
      {"log_level", &log_level}, {"log_console_level", &log_console_level}};
  for (const auto& [name, value] : levels) {
    if (!OneOf(*value, {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"})) {
      return bad(name,
                 "must be trace, debug, info, warn, error, critical or off, got '" + *value + "'");
    }
  }
  if (progress_spin_us < 0 || worker_spin_us < 0 || get_spin_us < 0) {
    return MakeError(ErrorCode::kInvalidArgument, "PRISM_*_SPIN_US values must be >= 0");
  }
  if (shutdown_timeout_ms < 100) return bad("shutdown_timeout_ms", "must be >= 100");
  if (startup_timeout_ms < 100) return bad("startup_timeout_ms", "must be >= 100");
  return Status::Ok();
}

std::string SystemConfig::Describe() const {
  std::string out;
#define PRISM_CONFIG(type, name, default_value, description) \
  out += std::string(#name) + "=" + Show(name) + "\n";
#include "prism/common/config_def.h"
#undef PRISM_CONFIG
  return out;
}

}  // namespace prism
