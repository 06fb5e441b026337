#include "prism/gpu/topology.h"

#include <hwloc.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace prism::gpu {
namespace {

constexpr std::uint16_t kVendorNvidia = 0x10de;
constexpr std::uint16_t kVendorAmd = 0x1002;
constexpr std::uint16_t kClassVga = 0x0300;
constexpr std::uint16_t kClass3d = 0x0302;
constexpr std::uint16_t kClassDisplayOther = 0x0380;

std::string ErrnoText(int err) { return std::strerror(err); }

// Owns an hwloc bitmap.
struct BitmapDeleter {
  void operator()(hwloc_bitmap_s* bitmap) const { hwloc_bitmap_free(bitmap); }
};
using BitmapPtr = std::unique_ptr<hwloc_bitmap_s, BitmapDeleter>;

CpuSet ToCpuSet(hwloc_const_bitmap_t bitmap) {
  std::vector<int> pus;
  if (bitmap == nullptr) return CpuSet();
  // An infinitely set bitmap never ends: stop at the largest index a CpuSet can hold.
  for (int pu = hwloc_bitmap_first(bitmap); pu >= 0 && pu <= CpuSet::kMaxPuIndex;
       pu = hwloc_bitmap_next(bitmap, pu)) {
    pus.push_back(pu);
  }
  return CpuSet(std::move(pus));
}

BitmapPtr ToBitmap(const CpuSet& set) {
  BitmapPtr bitmap(hwloc_bitmap_alloc());
  for (int pu : set.pus()) hwloc_bitmap_set(bitmap.get(), static_cast<unsigned>(pu));
  return bitmap;
}

bool IsGpu(const hwloc_obj_attr_u::hwloc_pcidev_attr_s& pci) {
  bool gpu_class =
      pci.class_id == kClass3d || pci.class_id == kClassVga || pci.class_id == kClassDisplayOther;
  bool gpu_vendor = pci.vendor_id == kVendorNvidia || pci.vendor_id == kVendorAmd;
  return gpu_class && gpu_vendor;
}

// "cuda<N>" among the OS devices below `pcidev`; empty when hwloc had no CUDA information.
std::string CudaName(hwloc_obj_t pcidev) {
  for (hwloc_obj_t child = pcidev->io_first_child; child != nullptr; child = child->next_sibling) {
    if (child->type != HWLOC_OBJ_OS_DEVICE || child->name == nullptr) continue;
    std::string_view name = child->name;
    if (name.size() > 4 && name.substr(0, 4) == "cuda") return std::string(name);
  }
  return {};
}

std::vector<PciGpu> FindGpus(hwloc_topology_t topology) {
  std::vector<PciGpu> gpus;
  for (hwloc_obj_t obj = hwloc_get_next_pcidev(topology, nullptr); obj != nullptr;
       obj = hwloc_get_next_pcidev(topology, obj)) {
    const hwloc_obj_attr_u::hwloc_pcidev_attr_s& pci = obj->attr->pcidev;
    if (!IsGpu(pci)) continue;
    PciGpu gpu;
    gpu.bus_id = PciBusId{pci.domain, pci.bus, pci.dev, pci.func};
    gpu.vendor_id = pci.vendor_id;
    gpu.device_id = pci.device_id;
    gpu.class_id = pci.class_id;
    hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(topology, obj);
    gpu.local_cpus = ToCpuSet(ancestor != nullptr ? ancestor->cpuset : nullptr);
    gpu.cuda_name = CudaName(obj);
    gpus.push_back(std::move(gpu));
  }
  std::sort(gpus.begin(), gpus.end(),
            [](const PciGpu& a, const PciGpu& b) { return a.bus_id < b.bus_id; });
  return gpus;
}

// Network adapters: PCI class 0x02xx, named by their first OS device.
std::vector<PciNic> FindNics(hwloc_topology_t topology) {
  std::vector<PciNic> nics;
  for (hwloc_obj_t obj = hwloc_get_next_pcidev(topology, nullptr); obj != nullptr;
       obj = hwloc_get_next_pcidev(topology, obj)) {
    const hwloc_obj_attr_u::hwloc_pcidev_attr_s& pci = obj->attr->pcidev;
    if ((pci.class_id >> 8) != 0x02) continue;
    PciNic nic;
    nic.bus_id = PciBusId{pci.domain, pci.bus, pci.dev, pci.func};
    nic.class_id = pci.class_id;
    for (hwloc_obj_t child = obj->io_first_child; child != nullptr; child = child->next_sibling) {
      if (child->type == HWLOC_OBJ_OS_DEVICE && child->name != nullptr) {
        nic.name = child->name;
        break;
      }
    }
    hwloc_obj_t ancestor = hwloc_get_non_io_ancestor_obj(topology, obj);
    nic.local_cpus = ToCpuSet(ancestor != nullptr ? ancestor->cpuset : nullptr);
    nics.push_back(std::move(nic));
  }
  std::sort(nics.begin(), nics.end(),
            [](const PciNic& a, const PciNic& b) { return a.bus_id < b.bus_id; });
  return nics;
}

// Creates an hwloc topology that keeps I/O devices, lets `configure` pick its source, loads it.
template <typename Configure>
Result<hwloc_topology_t> LoadTopology(Configure configure) {
  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0) {
    return MakeError(ErrorCode::kInternal, "hwloc_topology_init failed: " + ErrnoText(errno));
  }
  // I/O objects are dropped by default; GPUs and NICs are "important" ones.
  hwloc_topology_set_io_types_filter(topology, HWLOC_TYPE_FILTER_KEEP_IMPORTANT);
  if (Status status = configure(topology); !status.ok()) {
    hwloc_topology_destroy(topology);
    return status.error();
  }
  if (hwloc_topology_load(topology) != 0) {
    int err = errno;
    hwloc_topology_destroy(topology);
    return MakeError(ErrorCode::kIoError, "hwloc_topology_load failed: " + ErrnoText(err));
  }
  // Makes later concurrent read-only queries safe (hwloc computes some structures lazily).
  hwloc_topology_refresh(topology);
  return topology;
}

Result<CpuSet> CpuSetOfObject(hwloc_topology_t topology, hwloc_obj_type_t type, int index,
                              const char* what) {
  hwloc_obj_t obj =
      index < 0 ? nullptr : hwloc_get_obj_by_type(topology, type, static_cast<unsigned>(index));
  if (obj == nullptr) {
    return MakeError(ErrorCode::kNotFound,
                     std::string(what) + " " + std::to_string(index) + " does not exist (" +
                         std::to_string(hwloc_get_nbobjs_by_type(topology, type)) + " in all)");
  }
  return ToCpuSet(obj->cpuset);
}

}  // namespace

struct Topology::Impl {
  explicit Impl(hwloc_topology_t t) : topology(t), gpus(FindGpus(t)), nics(FindNics(t)) {}
  ~Impl() { hwloc_topology_destroy(topology); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  int Count(hwloc_obj_type_t type) const {
    return std::max(0, hwloc_get_nbobjs_by_type(topology, type));
  }

  hwloc_topology_t topology;
  std::vector<PciGpu> gpus;  // Computed once at load: the PCI tree never changes afterwards.
  std::vector<PciNic> nics;
};

Topology::Topology(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Topology::Topology(Topology&& other) noexcept = default;
Topology& Topology::operator=(Topology&& other) noexcept = default;
Topology::~Topology() = default;

Result<Topology> Topology::Load() {
  auto topology = LoadTopology([](hwloc_topology_t) { return Status::Ok(); });
  if (!topology) return topology.error();
  return Topology(std::make_unique<Impl>(*topology));
}

Result<Topology> Topology::FromSynthetic(std::string description) {
  auto topology = LoadTopology([&](hwloc_topology_t t) -> Status {
    if (hwloc_topology_set_synthetic(t, description.c_str()) != 0) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "hwloc rejected the synthetic topology \"" + description + "\"");
    }
    return Status::Ok();
  });
  if (!topology) return topology.error();
  return Topology(std::make_unique<Impl>(*topology));
}

Result<Topology> Topology::FromXml(const std::filesystem::path& path) {
  auto topology = LoadTopology([&](hwloc_topology_t t) -> Status {
    if (hwloc_topology_set_xml(t, path.c_str()) != 0) {
      return MakeError(ErrorCode::kIoError, "hwloc_topology_set_xml failed: " + ErrnoText(errno));
    }
    return Status::Ok();
  });
  if (!topology) {
    return MakeError(topology.error().code,
                     "XML topology " + path.string() + ": " + topology.error().message);
  }
  return Topology(std::make_unique<Impl>(*topology));
}

bool Topology::is_this_system() const { return hwloc_topology_is_thissystem(impl_->topology) != 0; }

int Topology::num_packages() const { return impl_->Count(HWLOC_OBJ_PACKAGE); }
int Topology::num_numa_nodes() const { return impl_->Count(HWLOC_OBJ_NUMANODE); }
int Topology::num_cores() const { return impl_->Count(HWLOC_OBJ_CORE); }
int Topology::num_pus() const { return impl_->Count(HWLOC_OBJ_PU); }

CpuSet Topology::MachineCpuSet() const {
  return ToCpuSet(hwloc_topology_get_topology_cpuset(impl_->topology));
}

Result<CpuSet> Topology::PackageCpuSet(int index) const {
  return CpuSetOfObject(impl_->topology, HWLOC_OBJ_PACKAGE, index, "package");
}

Result<CpuSet> Topology::NumaNodeCpuSet(int index) const {
  return CpuSetOfObject(impl_->topology, HWLOC_OBJ_NUMANODE, index, "NUMA node");
}

int Topology::CoresIn(const CpuSet& set) const {
  BitmapPtr bitmap = ToBitmap(set);
  hwloc_obj_type_t type = num_cores() > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
  int count = 0;
  for (hwloc_obj_t obj = hwloc_get_next_obj_by_type(impl_->topology, type, nullptr); obj != nullptr;
       obj = hwloc_get_next_obj_by_type(impl_->topology, type, obj)) {
    if (hwloc_bitmap_intersects(obj->cpuset, bitmap.get())) ++count;
  }
  return count;
}

std::vector<CpuSet> Topology::CoreCpuSets() const {
  hwloc_obj_type_t type = num_cores() > 0 ? HWLOC_OBJ_CORE : HWLOC_OBJ_PU;
  std::vector<CpuSet> cores;
  for (hwloc_obj_t obj = hwloc_get_next_obj_by_type(impl_->topology, type, nullptr); obj != nullptr;
       obj = hwloc_get_next_obj_by_type(impl_->topology, type, obj)) {
    cores.push_back(ToCpuSet(obj->cpuset));
  }
  return cores;
}

Result<CpuSet> Topology::AllowedCpuSet() const {
  if (!is_this_system()) return MachineCpuSet();
  BitmapPtr bound(hwloc_bitmap_alloc());
  if (hwloc_get_cpubind(impl_->topology, bound.get(), HWLOC_CPUBIND_PROCESS) != 0) {
    return MakeError(ErrorCode::kIoError, "hwloc_get_cpubind(process) failed: " + ErrnoText(errno));
  }
  // Keep only PUs the topology knows (offline or disallowed ones are not usable anyway).
  hwloc_bitmap_and(bound.get(), bound.get(), hwloc_topology_get_topology_cpuset(impl_->topology));
  return ToCpuSet(bound.get());
}

const std::vector<PciGpu>& Topology::Gpus() const { return impl_->gpus; }

const std::vector<PciNic>& Topology::Nics() const { return impl_->nics; }

Result<PciGpu> Topology::FindGpu(const PciBusId& bus_id) const {
  for (const PciGpu& gpu : impl_->gpus) {
    if (gpu.bus_id == bus_id) return gpu;
  }
  return MakeError(ErrorCode::kNotFound, "no GPU at PCI bus id " + bus_id.ToString() + " (" +
                                             std::to_string(impl_->gpus.size()) +
                                             " GPUs in the topology)");
}

}  // namespace prism::gpu
