#include "prism_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

namespace prism::bench {

std::optional<std::string> FindPrismSetting(int argc, char** argv, const std::string& name) {
  std::string dashed = name;
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    for (const std::string& spelling : {name, dashed}) {
      std::string prefix = "--prism-" + spelling + "=";
      if (arg.starts_with(prefix)) return std::string(arg.substr(prefix.size()));
    }
  }
  std::string env = "PRISM_" + name;
  std::transform(env.begin(), env.end(), env.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (const char* value = std::getenv(env.c_str()); value != nullptr) return std::string(value);
  return std::nullopt;
}

}  // namespace prism::bench
