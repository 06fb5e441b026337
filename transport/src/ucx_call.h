#pragma once
// PRISM_UCS_CALL: turns a failing UCX call into a prism::Error with the call text and UCX's
// message.

#include <ucs/type/status.h>

#include <string>

#include "prism/common/result.h"

namespace prism::transport {

inline Error UcsError(ucs_status_t status, const char* call) {
  ErrorCode code = status == UCS_ERR_NO_MEMORY ? ErrorCode::kResourceExhausted
                   : (status == UCS_ERR_UNREACHABLE || status == UCS_ERR_ENDPOINT_TIMEOUT ||
                      status == UCS_ERR_CONNECTION_RESET)
                       ? ErrorCode::kPeerDead
                       : ErrorCode::kInternal;
  return MakeError(code, std::string(call) + " failed: " + ucs_status_string(status));
}

}  // namespace prism::transport

#define PRISM_UCS_CALL(call)                                         \
  do {                                                               \
    ucs_status_t prism_ucs_status_ = (call);                         \
    if (prism_ucs_status_ != UCS_OK)                                 \
      return ::prism::transport::UcsError(prism_ucs_status_, #call); \
  } while (0)
