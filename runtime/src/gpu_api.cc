// prism::GetGpuIds and prism::GpuEnvironment.

#include <fmt/format.h>
#include <unistd.h>

#include "core_runtime.h"
#include "gpu_slots.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/gpu.h"
#include "task_context.h"

extern char** environ;  // NOLINT: POSIX

namespace prism {

std::vector<std::string> GetGpuIds() {
  auto rt = runtime::CoreRuntime::Current();
  if (!rt)
    throw PrismError("prism::GetGpuIds called before prism::Init (or after prism::Shutdown)");
  if (const std::vector<std::string>* ids = runtime::CurrentGpuIds()) return *ids;
  if (!runtime::CurrentTaskId().IsNil()) return {};  // a task that asked for no GPU
  return rt->gpus().ids();
}

std::vector<std::string> GpuEnvironment() {
  std::vector<std::string> ids = GetGpuIds();
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.starts_with("CUDA_VISIBLE_DEVICES=")) continue;
    env.emplace_back(entry);
  }
  env.push_back(fmt::format("CUDA_VISIBLE_DEVICES={}", fmt::join(ids, ",")));
  return env;
}

}  // namespace prism
