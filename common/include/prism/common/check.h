#pragma once
/// PRISM_CHECK: a broken invariant is a bug; log it with the rank and abort.
///
/// Never check user or network input with it: those get a prism::Error.
///
///   PRISM_CHECK(slot < slots_.size(), "slot {} out of range {}", slot, slots_.size());

#include <fmt/format.h>

namespace prism::internal {

/// Logs "check failed" with file, line, condition and message, flushes the logs, aborts.
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition,
                              const std::string& message);

}  // namespace prism::internal

#define PRISM_CHECK(cond, ...)                                                               \
  do {                                                                                       \
    if (__builtin_expect(!(cond), 0)) {                                                      \
      ::prism::internal::CheckFailed(__FILE__, __LINE__, #cond, ::fmt::format(__VA_ARGS__)); \
    }                                                                                        \
  } while (0)
