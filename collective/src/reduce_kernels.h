#pragma once
// Element-wise reductions on host memory, the arithmetic of the UCX backend's algorithms.
//
// Thread contract: pure functions.

#include <cstddef>

#include "prism/collective/types.h"

namespace prism::collective {

/// out[i] = op(a[i], b[i]) for `count` elements of `type` (out may alias a or b). Host types
/// only (int32/int64/float/double); the caller has checked `type`.
void ReduceElements(void* out, const void* a, const void* b, size_t count, DataType type,
                    ReduceOp op);

/// Throws CollectiveError unless the UCX backend can reduce `type`.
void CheckHostType(DataType type, const char* api);

}  // namespace prism::collective
