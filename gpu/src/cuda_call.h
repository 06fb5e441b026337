#pragma once
// PRISM_CUDA_CALL: turns a failing CUDA runtime call into a prism::Error with the call text and
// CUDA's message. Only compiled when PRISM_HAVE_CUDA is set.

#include <cuda_runtime_api.h>

#include <string>

#include "prism/common/result.h"

namespace prism::gpu {

inline Error CudaError(cudaError_t code, const char* call) {
  ErrorCode prism_code = ErrorCode::kInternal;
  switch (code) {
    case cudaErrorInsufficientDriver:
    case cudaErrorNoDevice:
    case cudaErrorDevicesUnavailable:
      prism_code = ErrorCode::kUnavailable;
      break;
    case cudaErrorInvalidDevice:
    case cudaErrorInvalidValue:
      prism_code = ErrorCode::kInvalidArgument;
      break;
    default:
      break;
  }
  return MakeError(prism_code, std::string(call) + " failed: " + cudaGetErrorName(code) + " (" +
                                   cudaGetErrorString(code) + ")");
}

}  // namespace prism::gpu

#define PRISM_CUDA_CALL(call)                                \
  do {                                                       \
    cudaError_t prism_cuda_rc_ = (call);                     \
    if (prism_cuda_rc_ != cudaSuccess) {                     \
      return ::prism::gpu::CudaError(prism_cuda_rc_, #call); \
    }                                                        \
  } while (0)
