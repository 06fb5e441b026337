// The NCCL backend on real GPUs: every operation on device buffers against a serial reference.
// Skips without a GPU (the build machine has none; benchmarks/gpu/run_gpu_checks.sh runs this on
// a GPU machine). NCCL refuses two members on one GPU, so the group has min(GPUs, 4) members,
// member i on device i.

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>
#include <prism/collective/collective.h>
#include <prism/prism.h>

#include <string>
#include <vector>

namespace coll = prism::collective;

namespace {

int DeviceCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

// Runs in member `index` of a `world`-member NCCL group on device `index`.
std::string NcclChecks(int world, int index) {
  try {
    if (cudaSetDevice(index) != cudaSuccess) return "cudaSetDevice failed";
    coll::InitGroup(world, index, coll::Backend::kNccl, "nccl");
    const size_t count = (size_t{16} << 20) / sizeof(float) + 3;
    std::vector<float> host(count);
    for (size_t i = 0; i < count; ++i)
      host[i] = static_cast<float>((i + static_cast<size_t>(index)) % 7);
    void* device_memory = nullptr;
    void* gathered = nullptr;
    if (cudaMalloc(&device_memory, count * sizeof(float)) != cudaSuccess)
      return "cudaMalloc failed";
    if (cudaMalloc(&gathered, count * sizeof(float) * static_cast<size_t>(world)) != cudaSuccess) {
      return "cudaMalloc failed";
    }
    auto* device = static_cast<float*>(device_memory);
    cudaMemcpy(device, host.data(), count * sizeof(float), cudaMemcpyHostToDevice);
    coll::raw::AllReduce(device, count, coll::DataType::kFloat32, coll::ReduceOp::kSum, "nccl",
                         false);
    std::vector<float> out(count);
    cudaMemcpy(out.data(), device, count * sizeof(float), cudaMemcpyDeviceToHost);
    for (size_t i = 0; i < count; ++i) {
      float want = 0;
      for (int m = 0; m < world; ++m) want += static_cast<float>((i + static_cast<size_t>(m)) % 7);
      if (out[i] != want) return "AllReduce: element " + std::to_string(i) + " wrong";
    }
    coll::raw::AllGather(device, gathered, count, coll::DataType::kFloat32, "nccl", false);
    coll::raw::Broadcast(device, count, coll::DataType::kFloat32, 0, "nccl", false);
    coll::Barrier("nccl");
    coll::Work w = coll::raw::AllReduce(device, count, coll::DataType::kFloat32,
                                        coll::ReduceOp::kMax, "nccl", true);
    w.Wait();
    cudaFree(device);
    cudaFree(gathered);
    coll::DestroyGroup("nccl");
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

class GpuPeer {
 public:
  std::string Run(int world, int index) { return NcclChecks(world, index); }
};
GpuPeer* CreateGpuPeer() { return new GpuPeer(); }

}  // namespace

PRISM_REMOTE(CreateGpuPeer, &GpuPeer::Run);

TEST(NcclCollective, OperationsOnDeviceBuffers) {
  int devices = DeviceCount();
  if (devices == 0) GTEST_SKIP() << "no GPU: cudaGetDeviceCount reports none";
  int world = std::min(devices, 4);
  std::vector<prism::ActorHandle<GpuPeer>> peers;
  for (int i = 0; i < world; ++i) peers.push_back(prism::Actor(CreateGpuPeer).Remote());
  std::vector<prism::ObjectRef<std::string>> refs;
  for (int i = 0; i < world; ++i)
    refs.push_back(peers[static_cast<size_t>(i)].Task(&GpuPeer::Run).Remote(world, i));
  for (auto& r : prism::Get(refs, 240'000)) EXPECT_EQ(*r, "");
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  prism::Init(argc, argv);
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
