#pragma once
/// Vocabulary of the collectives: backends, reduction operations, element types, errors.

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

#include "prism/runtime/errors.h"

namespace prism::collective {

/// Where a group's data moves: host memory over UCX, or device memory over NCCL.
enum class Backend : uint8_t {
  kUcx = 0,   ///< Host buffers; Prism's own algorithms over the rank's UCX transport.
  kNccl = 1,  ///< Device buffers; one NCCL communicator and one CUDA stream per group.
};

/// The reduction applied element by element (ray.util.collective.ReduceOp).
enum class ReduceOp : uint8_t { kSum = 0, kProduct = 1, kMin = 2, kMax = 3 };

/// Element types. kFloat16 and kBFloat16 exist on the NCCL backend only.
enum class DataType : uint8_t {
  kInt32 = 0,
  kInt64 = 1,
  kFloat32 = 2,
  kFloat64 = 3,
  kFloat16 = 4,
  kBFloat16 = 5,
};

/// Bytes of one element of `type`.
size_t DataTypeSize(DataType type);
const char* DataTypeName(DataType type);
const char* ReduceOpName(ReduceOp op);
const char* BackendName(Backend backend);

/// The DataType of a C++ element type (int32_t, int64_t, float, double).
template <typename T>
constexpr DataType DataTypeOf() {
  if constexpr (std::is_same_v<T, int32_t>) {
    return DataType::kInt32;
  } else if constexpr (std::is_same_v<T, int64_t>) {
    return DataType::kInt64;
  } else if constexpr (std::is_same_v<T, float>) {
    return DataType::kFloat32;
  } else {
    static_assert(std::is_same_v<T, double>,
                  "prism::collective: elements must be int32_t, int64_t, float or double");
    return DataType::kFloat64;
  }
}

/// A collective failed: a member's rank died, the group was destroyed, a timeout passed, or the
/// members disagree (different sizes). The group cannot be used again; destroy it and create a
/// new one from the survivors.
class CollectiveError : public PrismError {
 public:
  using PrismError::PrismError;
};

}  // namespace prism::collective
