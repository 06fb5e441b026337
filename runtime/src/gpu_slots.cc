#include "gpu_slots.h"

#include <algorithm>

#include "prism/common/logging.h"
#include "prism/gpu/devices.h"
#include "resources.h"

namespace prism::runtime {
namespace {

thread_local const std::vector<std::string>* g_gpu_ids = nullptr;

}  // namespace

GpuSlots::GpuSlots(std::vector<std::string> ids)
    : ids_(std::move(ids)), free_(ids_.size(), kResourceUnit) {}

GpuSlots::Holding GpuSlots::Acquire(int64_t units) {
  Holding out;
  if (units <= 0 || ids_.empty()) return out;
  std::lock_guard lock(mu_);
  int n = static_cast<int>(free_.size());
  if (units >= kResourceUnit) {
    int64_t wanted = std::min<int64_t>(units / kResourceUnit, n);
    out.units = kResourceUnit;
    for (int i = 0; i < n && static_cast<int64_t>(out.devices.size()) < wanted; ++i) {
      if (free_[i] == kResourceUnit) out.devices.push_back(i);
    }
    if (static_cast<int64_t>(out.devices.size()) < wanted) {
      // Fragmented: overcommit the GPUs with the most room.
      std::vector<int> order;
      for (int i = 0; i < n; ++i) {
        if (std::find(out.devices.begin(), out.devices.end(), i) == out.devices.end()) {
          order.push_back(i);
        }
      }
      std::stable_sort(order.begin(), order.end(),
                       [&](int a, int b) { return free_[a] > free_[b]; });
      for (int i : order) {
        if (static_cast<int64_t>(out.devices.size()) == wanted) break;
        out.devices.push_back(i);
      }
      log::Get("runtime").warn("GPU request of {} does not fit whole free GPUs; sharing some",
                               static_cast<double>(units) / kResourceUnit);
    }
  } else {
    out.units = units;
    int best = -1;
    for (int i = 0; i < n; ++i) {
      if (free_[i] >= units && (best < 0 || free_[i] < free_[best])) best = i;
    }
    if (best < 0) {
      best = static_cast<int>(std::max_element(free_.begin(), free_.end()) - free_.begin());
      log::Get("runtime").warn("GPU request of {} fits no GPU's remaining share; sharing GPU {}",
                               static_cast<double>(units) / kResourceUnit, ids_[best]);
    }
    out.devices.push_back(best);
  }
  std::sort(out.devices.begin(), out.devices.end());
  for (int d : out.devices) free_[d] -= out.units;
  return out;
}

void GpuSlots::Release(const Holding& holding) {
  std::lock_guard lock(mu_);
  for (int d : holding.devices) {
    if (d >= 0 && d < static_cast<int>(free_.size())) free_[d] += holding.units;
  }
}

std::vector<std::string> GpuSlots::IdsOf(const std::vector<int>& devices) const {
  std::vector<std::string> out;
  for (int d : devices) {
    if (d >= 0 && d < static_cast<int>(ids_.size())) out.push_back(ids_[d]);
  }
  return out;
}

std::vector<int64_t> GpuSlots::FreeUnits() const {
  std::lock_guard lock(mu_);
  return free_;
}

GpuScope::GpuScope(GpuSlots& slots, int64_t units)
    : owner_(&slots), holding_(slots.Acquire(units)) {
  Publish(slots);
}

GpuScope::GpuScope(const GpuSlots& slots, const GpuSlots::Holding& holding) : holding_(holding) {
  Publish(slots);
}

void GpuScope::Publish(const GpuSlots& slots) {
  ids_ = slots.IdsOf(holding_.devices);
  previous_ids_ = g_gpu_ids;
  g_gpu_ids = &ids_;
  if (!holding_.devices.empty() && gpu::CudaDeviceCount() > 0) {
    // The first GPU becomes the thread's device; CUDA numbers the rank's visible GPUs from 0.
    if (Status s = gpu::CudaSetDevice(holding_.devices.front()); !s.ok()) {
      log::Get("runtime").warn("cudaSetDevice({}) for a GPU task: {}", holding_.devices.front(),
                               s.error().message);
    }
  }
}

GpuScope::~GpuScope() {
  g_gpu_ids = previous_ids_;
  if (owner_ != nullptr) owner_->Release(holding_);
}

const std::vector<std::string>* CurrentGpuIds() { return g_gpu_ids; }

}  // namespace prism::runtime
