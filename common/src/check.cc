#include "prism/common/check.h"

#include <cstdlib>

#include "prism/common/logging.h"

namespace prism::internal {

void CheckFailed(const char* file, int line, const char* condition, const std::string& message) {
  log::Get("check").critical("{}:{}: check failed: {}: {}", file, line, condition, message);
  log::Flush();
  std::abort();
}

}  // namespace prism::internal
