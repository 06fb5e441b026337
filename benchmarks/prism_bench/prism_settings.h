#pragma once
/// Prism settings as the user gave them to prism-bench, read before prism::Init (which reads
/// them again itself): prism-bench picks defaults of its own (head_cpus=0) unless the user set
/// them.
///
///   bool user_set = FindPrismSetting(argc, argv, "head_cpus").has_value();

#include <optional>
#include <string>

namespace prism::bench {

/// The value of Prism setting `name` (snake_case, e.g. "head_cpus") from argv
/// (--prism-<name>=<value>, with '-' or '_') or else the environment (PRISM_<NAME>); nullopt when
/// neither sets it.
std::optional<std::string> FindPrismSetting(int argc, char** argv, const std::string& name);

}  // namespace prism::bench
