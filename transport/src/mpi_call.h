#pragma once
// PRISM_MPI_CALL: turns a failing MPI call into a prism::Error with the call text and MPI's
// message.

#include <mpi.h>

#include <string>

#include "prism/common/result.h"

namespace prism::transport {

inline Error MpiError(int code, const char* call) {
  char text[MPI_MAX_ERROR_STRING] = {0};
  int len = 0;
  MPI_Error_string(code, text, &len);
  return MakeError(ErrorCode::kInternal, std::string(call) + " failed: " + std::string(text, len));
}

}  // namespace prism::transport

#define PRISM_MPI_CALL(call)                                                                     \
  do {                                                                                           \
    int prism_mpi_rc_ = (call);                                                                  \
    if (prism_mpi_rc_ != MPI_SUCCESS) return ::prism::transport::MpiError(prism_mpi_rc_, #call); \
  } while (0)
