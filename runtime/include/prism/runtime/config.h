#pragma once
/// prism::Config: what a program can set when it calls prism::Init (Ray's RayConfig).
///
///   prism::Config config;
///   config.job_namespace = "training";
///   config.system_config["max_inline_bytes"] = "65536";
///   prism::Init(config, argc, argv);
///
/// Every tunable of Prism can also come from a PRISM_<NAME> environment variable or a
/// --prism-<name>=<value> argument; precedence: default < environment < Config < argument.

#include <map>
#include <string>

namespace prism {

struct Config {
  /// Namespace of the job (named actors are looked up in it); empty: an anonymous one (a UUID).
  std::string job_namespace;
  /// Tunable name -> value, as for the PRISM_* environment variables (docs/configuration.md).
  std::map<std::string, std::string> system_config;
};

}  // namespace prism
