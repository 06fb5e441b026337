#pragma once
// GpuSlots: which of this rank's GPUs each running GPU task or actor holds, decided on the
// executing rank (the scheduler only counts the rank's "GPU" capacity). GpuScope makes a
// holding visible to the thread that runs the work: prism::GetGpuIds() and, with CUDA,
// cudaSetDevice for its first GPU.
//
// Assignment: a request of n >= 1 GPUs takes n GPUs nobody holds any part of; a fraction f < 1
// goes to the GPU with the least room left that still fits f (so fractions pack and whole GPUs
// stay free), and fractional holders of one GPU share its id. When fragmentation leaves no GPU
// with room (the scheduler admitted the request by the rank's total), the GPUs with the most room
// are taken anyway and the overcommit is logged.
//
// Thread contract: GpuSlots is thread-safe; a GpuScope belongs to the thread that made it.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace prism::runtime {

class GpuSlots {
 public:
  /// `ids`: the rank's schedulable GPUs (RankBinding::gpu_ids), in CUDA device order.
  explicit GpuSlots(std::vector<std::string> ids);

  struct Holding {
    std::vector<int> devices;  // CUDA ordinals within the rank's CUDA_VISIBLE_DEVICES
    int64_t units = 0;         // per device, in ResourceSet units
  };

  /// Takes `units` (ResourceSet units; kResourceUnit = one GPU). Empty holding for 0.
  Holding Acquire(int64_t units);
  void Release(const Holding& holding);

  const std::vector<std::string>& ids() const { return ids_; }
  /// Ids of `devices` (ordinals into ids()).
  std::vector<std::string> IdsOf(const std::vector<int>& devices) const;
  /// Free units of each GPU (for tests and logs).
  std::vector<int64_t> FreeUnits() const;

 private:
  const std::vector<std::string> ids_;
  mutable std::mutex mu_;
  std::vector<int64_t> free_;  // per GPU
};

/// For its lifetime, the calling thread runs work holding `units` of the rank's GPUs: acquires
/// them (or adopts an actor's lifetime holding), publishes their ids to GetGpuIds and, built
/// with CUDA, makes the first one the thread's current device.
class GpuScope {
 public:
  GpuScope(GpuSlots& slots, int64_t units);
  /// Adopts `holding` (an actor's, kept for its life): nothing is acquired or released.
  GpuScope(const GpuSlots& slots, const GpuSlots::Holding& holding);
  ~GpuScope();
  GpuScope(const GpuScope&) = delete;
  GpuScope& operator=(const GpuScope&) = delete;

  const GpuSlots::Holding& holding() const { return holding_; }

 private:
  void Publish(const GpuSlots& slots);

  GpuSlots* owner_ = nullptr;  // set when this scope acquired (and so releases)
  GpuSlots::Holding holding_;
  const std::vector<std::string>* previous_ids_ = nullptr;
  std::vector<std::string> ids_;
};

/// The GPU ids of the GpuScope the calling thread is in; nullptr outside any.
const std::vector<std::string>* CurrentGpuIds();

}  // namespace prism::runtime
