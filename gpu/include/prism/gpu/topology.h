#pragma once
/// Topology: the node's hardware as hwloc sees it (packages, NUMA nodes, cores, PUs, and GPUs
/// found as PCI devices), with the CPU locality the runtime binds workers by.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "prism/common/result.h"
#include "prism/gpu/cpu_set.h"
#include "prism/gpu/pci_bus_id.h"

namespace prism::gpu {

/// A GPU found in the topology as a PCI device: class 0x0302 (3D controller), 0x0300 (VGA) or
/// 0x0380 (display controller, AMD Instinct), from NVIDIA (0x10de) or AMD (0x1002).
struct PciGpu {
  PciBusId bus_id;              ///< Match CUDA devices by this (CudaDevicePciBusId).
  std::uint16_t vendor_id = 0;  ///< 0x10de NVIDIA, 0x1002 AMD.
  std::uint16_t device_id = 0;
  std::uint16_t class_id = 0;  ///< 0x0302, 0x0300 or 0x0380.
  CpuSet local_cpus;           ///< PUs of the nearest non-I/O ancestor (package or NUMA node).
  /// hwloc's CUDA OS device name ("cuda2") when its CUDA plugin ran or the XML came from one;
  /// empty otherwise (always empty with Debian's hwloc, which has no CUDA/NVML plugin).
  std::string cuda_name;
};

/// A network adapter found as a PCI device of class 0x02xx (Ethernet 0x0200, InfiniBand 0x0207).
struct PciNic {
  PciBusId bus_id;
  std::uint16_t class_id = 0;
  std::string name;   ///< Its OS device ("eth0", "mlx5_0"); empty when hwloc found none.
  CpuSet local_cpus;  ///< PUs of the nearest non-I/O ancestor.
};

/// The hardware topology of this node (or of a fake one, for tests and what-if runs).
///
///   Result<Topology> topo = Topology::Load();       // honours HWLOC_XMLFILE / HWLOC_SYNTHETIC
///   if (!topo) return topo.error();
///   CpuSet mine = topo->AllowedCpuSet().value();    // where this process may run
///   int workers = topo->CoresIn(mine);
///   for (const PciGpu& gpu : topo->Gpus()) Use(gpu.bus_id, gpu.local_cpus);
///
/// Load() runs hwloc's discovery (tens of milliseconds with PCI): do it once per process.
/// Movable, not copyable; a moved-from Topology may only be destroyed or assigned to.
/// Thread contract: const methods are thread-safe (the topology is never modified after load).
class Topology {
 public:
  /// Discovers this node; the HWLOC_XMLFILE and HWLOC_SYNTHETIC environment variables replace it
  /// with a fake one (then is_this_system() is false). I/O devices are kept. kInternal or
  /// kIoError when hwloc fails.
  static Result<Topology> Load();

  /// A synthetic topology, e.g. "pack:2 numa:1 core:8 pu:2" (hwloc's synthetic syntax).
  /// kInvalidArgument names the description when hwloc rejects it.
  static Result<Topology> FromSynthetic(std::string description);

  /// A topology exported by `lstopo --of xml` (or written by hand). kIoError names the path when
  /// it cannot be read or parsed.
  static Result<Topology> FromXml(const std::filesystem::path& path);

  Topology(Topology&& other) noexcept;
  Topology& operator=(Topology&& other) noexcept;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  ~Topology();

  /// True when the topology describes the machine this process runs on (binding is meaningful).
  bool is_this_system() const;

  int num_packages() const;
  int num_numa_nodes() const;
  int num_cores() const;
  int num_pus() const;

  /// Every PU of the machine.
  CpuSet MachineCpuSet() const;

  /// PUs of package `index` (hwloc's logical index, L#). kNotFound when out of range.
  Result<CpuSet> PackageCpuSet(int index) const;

  /// PUs of NUMA node `index` (logical index). kNotFound when out of range.
  Result<CpuSet> NumaNodeCpuSet(int index) const;

  /// Number of cores with at least one PU in `set`; counts PUs when the topology has no cores.
  int CoresIn(const CpuSet& set) const;

  /// The PUs of every core, in hwloc's logical order (package by package); one PU per entry
  /// when the topology has no cores.
  std::vector<CpuSet> CoreCpuSets() const;

  /// The PUs this process may run on: its current CPU binding (sched_getaffinity on Linux) for
  /// the real machine; the whole machine for a fake topology, where binding is meaningless.
  /// kIoError when the binding cannot be read.
  Result<CpuSet> AllowedCpuSet() const;

  /// GPUs seen as PCI devices, ordered by PCI bus id (CUDA_DEVICE_ORDER=PCI_BUS_ID order, which
  /// need not be CUDA's default numbering: match by bus id, not by position).
  const std::vector<PciGpu>& Gpus() const;

  /// Network adapters seen as PCI devices (class 0x02xx), ordered by PCI bus id.
  const std::vector<PciNic>& Nics() const;

  /// The GPU at `bus_id`. kNotFound when no GPU has that address.
  Result<PciGpu> FindGpu(const PciBusId& bus_id) const;

 private:
  struct Impl;
  explicit Topology(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace prism::gpu
