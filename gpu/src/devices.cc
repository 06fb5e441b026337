#include "prism/gpu/devices.h"

#include <algorithm>
#include <cctype>

#ifdef PRISM_HAVE_CUDA
#include "cuda_call.h"
#endif

namespace prism::gpu {
namespace {

constexpr std::string_view kVariable = "CUDA_VISIBLE_DEVICES";

Error VisibleDevicesError(std::string_view value, std::string_view token, std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument, std::string(kVariable) + "=\"" +
                                                    std::string(value) + "\": " + std::string(why) +
                                                    " \"" + std::string(token) + "\"");
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "GPU-<uuid>" or "MIG-<uuid>[/gi/ci]": hex digits, dashes and (old MIG form) slashes.
bool IsUuid(std::string_view token) {
  if (token.size() <= 4) return false;
  std::string_view prefix = token.substr(0, 4);
  if (prefix != "GPU-" && prefix != "MIG-") return false;
  return std::all_of(token.begin() + 4, token.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '/';
  });
}

}  // namespace

int CudaDeviceCount() {
#ifdef PRISM_HAVE_CUDA
  // Without a driver cudaGetDeviceCount fails (35, cudaErrorInsufficientDriver) and leaves the
  // count untouched: start from 0 and treat every error as "no GPU".
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // Reset CUDA's last error so a later check does not see this one.
    return 0;
  }
  return std::max(count, 0);
#else
  return 0;
#endif
}

Result<PciBusId> CudaDevicePciBusId(int device) {
#ifdef PRISM_HAVE_CUDA
  char text[32] = {0};
  PRISM_CUDA_CALL(cudaDeviceGetPCIBusId(text, static_cast<int>(sizeof(text)), device));
  return PciBusId::Parse(text);
#else
  return MakeError(ErrorCode::kUnavailable, "CudaDevicePciBusId(" + std::to_string(device) +
                                                "): Prism was built without CUDA");
#endif
}

Status CudaSetDevice(int device) {
#ifdef PRISM_HAVE_CUDA
  PRISM_CUDA_CALL(cudaSetDevice(device));
  return Status::Ok();
#else
  return MakeError(ErrorCode::kUnavailable,
                   "CudaSetDevice(" + std::to_string(device) + "): Prism was built without CUDA");
#endif
}

Result<std::vector<std::string>> ParseVisibleDevices(std::string_view value) {
  std::vector<std::string> devices;
  if (Trim(value).empty() || Trim(value) == "NoDevFiles") return devices;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string_view token = Trim(value.substr(start, comma - start));
    start = comma + 1;
    if (token.empty()) return VisibleDevicesError(value, token, "empty entry");
    std::string entry;
    if (AllDigits(token)) {
      std::string_view digits =
          token.substr(std::min(token.find_first_not_of('0'), token.size() - 1));
      if (digits.size() > 9) return VisibleDevicesError(value, token, "device index too large");
      entry = std::string(digits);
    } else if (token.front() == '-' && AllDigits(token.substr(1))) {
      break;  // CUDA ignores an invalid index and every entry after it.
    } else if (IsUuid(token)) {
      entry = std::string(token);
    } else {
      return VisibleDevicesError(value, token, "not a device index or GPU-/MIG- UUID");
    }
    if (std::find(devices.begin(), devices.end(), entry) != devices.end()) {
      return VisibleDevicesError(value, token, "repeated device");
    }
    devices.push_back(std::move(entry));
  }
  return devices;
}

}  // namespace prism::gpu
