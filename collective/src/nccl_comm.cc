// The NCCL backend (built when CUDA and NCCL were found).
#include "nccl_comm.h"

#include <cuda_runtime_api.h>
#include <fmt/format.h>
#include <nccl.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "prism/common/clock.h"

namespace prism::collective {
namespace {

Error CudaError(cudaError_t e, const char* what) {
  return MakeError(ErrorCode::kIoError, fmt::format("{}: CUDA error {} ({})", what,
                                                    static_cast<int>(e), cudaGetErrorString(e)));
}

Error NcclError(ncclResult_t e, const char* what) {
  return MakeError(ErrorCode::kIoError, fmt::format("{}: NCCL error {} ({})", what,
                                                    static_cast<int>(e), ncclGetErrorString(e)));
}

ncclDataType_t ToNccl(DataType type) {
  switch (type) {
    case DataType::kInt32:
      return ncclInt32;
    case DataType::kInt64:
      return ncclInt64;
    case DataType::kFloat32:
      return ncclFloat32;
    case DataType::kFloat64:
      return ncclFloat64;
    case DataType::kFloat16:
      return ncclFloat16;
    case DataType::kBFloat16:
      return ncclBfloat16;
  }
  return ncclFloat32;
}

ncclRedOp_t ToNccl(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return ncclSum;
    case ReduceOp::kProduct:
      return ncclProd;
    case ReduceOp::kMin:
      return ncclMin;
    case ReduceOp::kMax:
      return ncclMax;
  }
  return ncclSum;
}

}  // namespace

struct NcclComm::Impl {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  int device = 0;
  void* barrier_word = nullptr;  // one device int for Barrier
  std::atomic<bool> aborted{false};
  std::mutex abort_mu;

  // Enqueues with `enqueue` on the stream, then waits for the stream.
  Status Run(const char* what, const std::function<ncclResult_t()>& enqueue, const FailedFn& failed,
             int64_t timeout_ns) {
    if (aborted.load()) {
      return MakeError(ErrorCode::kPeerDead, "the NCCL communicator was aborted");
    }
    if (cudaError_t e = cudaSetDevice(device); e != cudaSuccess) return CudaError(e, what);
    if (ncclResult_t r = enqueue(); r != ncclSuccess) return NcclError(r, what);
    int64_t deadline = timeout_ns < 0 ? -1 : NowNanos() + timeout_ns;
    for (int spins = 0;; ++spins) {
      cudaError_t q = cudaStreamQuery(stream);
      if (q == cudaSuccess) return Status::Ok();
      if (q != cudaErrorNotReady) return CudaError(q, what);
      if (failed()) return MakeError(ErrorCode::kPeerDead, "a member of the group died");
      ncclResult_t async = ncclSuccess;
      if (ncclCommGetAsyncError(comm, &async) == ncclSuccess && async != ncclSuccess &&
          async != ncclInProgress) {
        return NcclError(async, what);
      }
      if (deadline >= 0 && NowNanos() > deadline) {
        return MakeError(ErrorCode::kTimeout, fmt::format("{}: NCCL operation timed out", what));
      }
      if (spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }
};

bool NcclComm::Available() { return true; }

Result<std::vector<std::byte>> NcclComm::NewUniqueId() {
  ncclUniqueId id;
  if (ncclResult_t r = ncclGetUniqueId(&id); r != ncclSuccess) {
    return NcclError(r, "ncclGetUniqueId");
  }
  std::vector<std::byte> out(sizeof id);
  std::memcpy(out.data(), &id, sizeof id);
  return out;
}

Result<std::unique_ptr<NcclComm>> NcclComm::Create(std::span<const std::byte> unique_id,
                                                   int world_size, int rank) {
  if (unique_id.size() != sizeof(ncclUniqueId)) {
    return MakeError(ErrorCode::kMalformed, "the group's NCCL unique id has the wrong size");
  }
  int devices = 0;
  if (cudaError_t e = cudaGetDeviceCount(&devices); e != cudaSuccess || devices == 0) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     fmt::format("the NCCL backend needs a GPU: cudaGetDeviceCount says {} ({})",
                                 devices, cudaGetErrorString(e)));
  }
  auto impl = std::make_unique<Impl>();
  if (cudaError_t e = cudaGetDevice(&impl->device); e != cudaSuccess) {
    return CudaError(e, "cudaGetDevice");
  }
  ncclUniqueId id;
  std::memcpy(&id, unique_id.data(), sizeof id);
  if (ncclResult_t r = ncclCommInitRank(&impl->comm, world_size, id, rank); r != ncclSuccess) {
    return NcclError(r, "ncclCommInitRank");
  }
  if (cudaError_t e = cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking);
      e != cudaSuccess) {
    ncclCommDestroy(impl->comm);
    return CudaError(e, "cudaStreamCreate");
  }
  if (cudaError_t e = cudaMalloc(&impl->barrier_word, sizeof(int32_t)); e != cudaSuccess) {
    cudaStreamDestroy(impl->stream);
    ncclCommDestroy(impl->comm);
    return CudaError(e, "cudaMalloc");
  }
  return std::unique_ptr<NcclComm>(new NcclComm(std::move(impl)));
}

NcclComm::NcclComm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NcclComm::~NcclComm() {
  cudaSetDevice(impl_->device);
  if (impl_->aborted.load()) {
    // ncclCommAbort freed the communicator.
  } else {
    ncclCommDestroy(impl_->comm);
  }
  cudaFree(impl_->barrier_word);
  cudaStreamDestroy(impl_->stream);
}

void NcclComm::Abort() {
  std::lock_guard lock(impl_->abort_mu);
  if (impl_->aborted.exchange(true)) return;
  ncclCommAbort(impl_->comm);
}

Status NcclComm::AllReduce(void* data, size_t count, DataType type, ReduceOp op,
                           const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclAllReduce",
      [&] {
        return ncclAllReduce(data, data, count, ToNccl(type), ToNccl(op), impl_->comm,
                             impl_->stream);
      },
      failed, timeout_ns);
}

Status NcclComm::Reduce(void* data, size_t count, DataType type, ReduceOp op, int root,
                        const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclReduce",
      [&] {
        return ncclReduce(data, data, count, ToNccl(type), ToNccl(op), root, impl_->comm,
                          impl_->stream);
      },
      failed, timeout_ns);
}

Status NcclComm::Broadcast(void* data, size_t count, DataType type, int root,
                           const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclBroadcast",
      [&] {
        return ncclBroadcast(data, data, count, ToNccl(type), root, impl_->comm, impl_->stream);
      },
      failed, timeout_ns);
}

Status NcclComm::AllGather(const void* send, void* recv, size_t count, DataType type,
                           const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclAllGather",
      [&] { return ncclAllGather(send, recv, count, ToNccl(type), impl_->comm, impl_->stream); },
      failed, timeout_ns);
}

Status NcclComm::ReduceScatter(const void* send, void* recv, size_t count, DataType type,
                               ReduceOp op, const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclReduceScatter",
      [&] {
        return ncclReduceScatter(send, recv, count, ToNccl(type), ToNccl(op), impl_->comm,
                                 impl_->stream);
      },
      failed, timeout_ns);
}

Status NcclComm::Barrier(const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclAllReduce (barrier)",
      [&] {
        return ncclAllReduce(impl_->barrier_word, impl_->barrier_word, 1, ncclInt32, ncclSum,
                             impl_->comm, impl_->stream);
      },
      failed, timeout_ns);
}

Status NcclComm::Send(const void* data, size_t count, DataType type, int peer,
                      const FailedFn& failed, int64_t timeout_ns) {
  return impl_->Run(
      "ncclSend",
      [&] { return ncclSend(data, count, ToNccl(type), peer, impl_->comm, impl_->stream); }, failed,
      timeout_ns);
}

Status NcclComm::Recv(void* data, size_t count, DataType type, int peer, const FailedFn& failed,
                      int64_t timeout_ns) {
  return impl_->Run(
      "ncclRecv",
      [&] { return ncclRecv(data, count, ToNccl(type), peer, impl_->comm, impl_->stream); }, failed,
      timeout_ns);
}

}  // namespace prism::collective
