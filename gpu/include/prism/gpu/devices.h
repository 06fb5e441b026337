#pragma once
/// CUDA devices as the CUDA runtime numbers them: how many this process sees, where each one is
/// on the PCI bus, and what CUDA_VISIBLE_DEVICES says.

#include <string>
#include <string_view>
#include <vector>

#include "prism/common/result.h"
#include "prism/gpu/pci_bus_id.h"

namespace prism::gpu {

/// Number of CUDA devices this process can use (after CUDA_VISIBLE_DEVICES). 0 when Prism was
/// built without CUDA, when there is no driver (cudaErrorInsufficientDriver), no device, or any
/// other CUDA error: "cannot use a GPU" and "has no GPU" mean the same to the runtime.
///
///   if (CudaDeviceCount() == 0) RunCpuOnly();
///
/// Thread-safe (the first call initialises the CUDA runtime).
int CudaDeviceCount();

/// PCI address of CUDA device `device` (CUDA's numbering); look it up in the hwloc topology with
/// Topology::FindGpu to learn its CPU locality.
///
///   Result<PciBusId> id = CudaDevicePciBusId(0);
///   if (id) cpus = topology.FindGpu(*id)->local_cpus;
///
/// kUnavailable without CUDA, driver or device; kInvalidArgument for a bad `device`.
/// Thread-safe.
Result<PciBusId> CudaDevicePciBusId(int device);

/// Makes CUDA device `device` (CUDA's numbering, after CUDA_VISIBLE_DEVICES) current on the
/// calling thread. kUnavailable without CUDA or driver; kInvalidArgument for a bad `device`.
/// Thread-safe (the device is per thread).
Status CudaSetDevice(int device);

/// Parses a CUDA_VISIBLE_DEVICES value into its entries, in order. An entry is either a device
/// index, returned in canonical decimal ("01" -> "1"), or a UUID kept as an opaque string
/// ("GPU-5f1c...", "MIG-..."), which is why this returns strings rather than ints.
///   - "" and "NoDevFiles" (what Slurm sets when a job has no GPU device files) mean no device.
///   - A negative index ends the list, as in CUDA: "0,-1,2" is {"0"} and "-1" hides every GPU.
///   - Spaces around entries are ignored.
/// kInvalidArgument, naming CUDA_VISIBLE_DEVICES and the bad token, for an empty entry
/// ("0,,1"), anything that is neither an index nor a GPU-/MIG- UUID, and a repeated entry.
///
///   Result<std::vector<std::string>> visible = ParseVisibleDevices("0,1,3");  // {"0","1","3"}
///
/// Thread-safe.
Result<std::vector<std::string>> ParseVisibleDevices(std::string_view value);

}  // namespace prism::gpu
