#pragma once
// Bulk copies for the shared-memory stream algorithms (stream_algorithms.cc).
//
// Thread contract: pure functions.

#include <cstddef>

namespace prism::collective {

/// Copies `n` bytes like memcpy, but writes the destination with non-temporal (streaming) stores
/// where the CPU has them (x86-64), so that a large destination that will not be read back soon
/// is written to memory without first being read into the cache. The stores are fenced before it
/// returns. For sources and destinations of any alignment; they must not overlap.
void StreamCopy(void* dst, const void* src, size_t n);

}  // namespace prism::collective
