#include "reduce_kernels.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace prism::collective {
namespace {

template <typename T, typename F>
void Apply(void* out, const void* a, const void* b, size_t count, F f) {
  auto* o = static_cast<T*>(out);
  const auto* x = static_cast<const T*>(a);
  const auto* y = static_cast<const T*>(b);
  for (size_t i = 0; i < count; ++i) o[i] = f(x[i], y[i]);
}

template <typename T>
void ApplyOp(void* out, const void* a, const void* b, size_t count, ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      Apply<T>(out, a, b, count, [](T x, T y) { return static_cast<T>(x + y); });
      return;
    case ReduceOp::kProduct:
      Apply<T>(out, a, b, count, [](T x, T y) { return static_cast<T>(x * y); });
      return;
    case ReduceOp::kMin:
      Apply<T>(out, a, b, count, [](T x, T y) { return std::min(x, y); });
      return;
    case ReduceOp::kMax:
      Apply<T>(out, a, b, count, [](T x, T y) { return std::max(x, y); });
      return;
  }
}

}  // namespace

void ReduceElements(void* out, const void* a, const void* b, size_t count, DataType type,
                    ReduceOp op) {
  switch (type) {
    case DataType::kInt32:
      ApplyOp<int32_t>(out, a, b, count, op);
      return;
    case DataType::kInt64:
      ApplyOp<int64_t>(out, a, b, count, op);
      return;
    case DataType::kFloat32:
      ApplyOp<float>(out, a, b, count, op);
      return;
    case DataType::kFloat64:
      ApplyOp<double>(out, a, b, count, op);
      return;
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return;  // rejected by CheckHostType
  }
}

void CheckHostType(DataType type, const char* api) {
  if (type == DataType::kFloat16 || type == DataType::kBFloat16) {
    throw CollectiveError(std::string(api) + ": " + DataTypeName(type) +
                          " is supported by the NCCL backend only");
  }
  if (static_cast<int>(type) > static_cast<int>(DataType::kBFloat16)) {
    throw CollectiveError(std::string(api) + ": unknown data type");
  }
}

size_t DataTypeSize(DataType type) {
  switch (type) {
    case DataType::kInt32:
    case DataType::kFloat32:
      return 4;
    case DataType::kInt64:
    case DataType::kFloat64:
      return 8;
    case DataType::kFloat16:
    case DataType::kBFloat16:
      return 2;
  }
  return 0;
}

const char* DataTypeName(DataType type) {
  switch (type) {
    case DataType::kInt32:
      return "int32";
    case DataType::kInt64:
      return "int64";
    case DataType::kFloat32:
      return "float32";
    case DataType::kFloat64:
      return "float64";
    case DataType::kFloat16:
      return "float16";
    case DataType::kBFloat16:
      return "bfloat16";
  }
  return "unknown";
}

const char* ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "SUM";
    case ReduceOp::kProduct:
      return "PRODUCT";
    case ReduceOp::kMin:
      return "MIN";
    case ReduceOp::kMax:
      return "MAX";
  }
  return "unknown";
}

const char* BackendName(Backend backend) {
  switch (backend) {
    case Backend::kUcx:
      return "ucx";
    case Backend::kNccl:
      return "nccl";
  }
  return "unknown";
}

}  // namespace prism::collective
