// AllReduce bus bandwidth of Prism's NCCL backend (nccl-tests' definition): a group of
// min(GPUs, --members) actors, member i on device i, sweeps float32 SUM AllReduce from 8 B to
// --max-bytes and prints time, algbw = bytes/time and busbw = algbw * 2(n-1)/n per size.
//
//   mpirun -n 1 build/bin/prism_allreduce_busbw [max_bytes=1073741824] [members=8]

#include <cuda_runtime_api.h>
#include <prism/collective/collective.h>
#include <prism/prism.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace coll = prism::collective;

namespace {

// Runs the sweep as member `index`; member 0 returns one line per size.
std::vector<std::string> Sweep(int world, int index, int64_t max_bytes) {
  std::vector<std::string> lines;
  try {
    if (cudaSetDevice(index) != cudaSuccess) return {"cudaSetDevice failed"};
    coll::InitGroup(world, index, coll::Backend::kNccl, "busbw");
    void* buffer = nullptr;
    if (cudaMalloc(&buffer, static_cast<size_t>(max_bytes)) != cudaSuccess) {
      return {"cudaMalloc failed"};
    }
    for (int64_t bytes = 8; bytes <= max_bytes; bytes *= 4) {
      size_t count = static_cast<size_t>(bytes) / sizeof(float);
      int iters = bytes <= (1 << 20) ? 100 : 20;
      for (int i = 0; i < 5; ++i) {
        coll::raw::AllReduce(buffer, count, coll::DataType::kFloat32, coll::ReduceOp::kSum, "busbw",
                             false);
      }
      coll::Barrier("busbw");
      auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < iters; ++i) {
        coll::raw::AllReduce(buffer, count, coll::DataType::kFloat32, coll::ReduceOp::kSum, "busbw",
                             false);
      }
      double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
              .count() /
          iters;
      double algbw = static_cast<double>(bytes) / us / 1e3;  // GB/s
      double busbw = algbw * 2.0 * (world - 1) / world;
      char line[160];
      std::snprintf(line, sizeof line, "%12lld B %12.2f us  algbw %8.2f GB/s  busbw %8.2f GB/s",
                    static_cast<long long>(bytes), us, algbw, busbw);
      lines.emplace_back(line);
    }
    cudaFree(buffer);
    coll::DestroyGroup("busbw");
  } catch (const std::exception& e) {
    return {std::string("error: ") + e.what()};
  }
  return lines;
}

class SweepMember {
 public:
  std::vector<std::string> Run(int world, int index, int64_t max_bytes) {
    return Sweep(world, index, max_bytes);
  }
};
SweepMember* CreateSweepMember() { return new SweepMember(); }

}  // namespace

PRISM_REMOTE(CreateSweepMember, &SweepMember::Run);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int64_t max_bytes = argc > 1 ? std::atoll(argv[1]) : (int64_t{1} << 30);
  int want = argc > 2 ? std::atoi(argv[2]) : 8;
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no GPU: nothing to measure\n");
    prism::Shutdown();
    return 0;
  }
  int world = std::max(1, std::min(devices, want));
  std::printf(
      "AllReduce float32 SUM, NCCL backend, %d member(s) on %d GPU(s)%s\n", world, devices,
      world == 1 ? " (one member: busbw is 0 by definition; algbw shows the call cost)" : "");
  std::vector<prism::ActorHandle<SweepMember>> members;
  std::vector<prism::ObjectRef<std::vector<std::string>>> refs;
  for (int i = 0; i < world; ++i) {
    members.push_back(prism::Actor(CreateSweepMember).Remote());
    refs.push_back(members.back().Task(&SweepMember::Run).Remote(world, i, max_bytes));
  }
  auto results = prism::Get(refs, 1'800'000);
  for (const auto& line : *results[0]) std::printf("%s\n", line.c_str());
  prism::Shutdown();
  return 0;
}
