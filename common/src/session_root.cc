#include "prism/common/session_root.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

namespace prism {

std::string UserSessionRoot(const std::string& root) {
  std::string base = root;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string user;
  if (const passwd* pw = getpwuid(geteuid()); pw != nullptr && pw->pw_name != nullptr) {
    user = pw->pw_name;
  } else {
    user = "uid" + std::to_string(geteuid());
  }
  return base + "/prism-" + user;
}

}  // namespace prism
