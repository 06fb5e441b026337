// The NCCL backend when Prism was built without CUDA or NCCL: every entry point says so.
#include "nccl_comm.h"

namespace prism::collective {
namespace {

Error NotBuilt() {
  return MakeError(ErrorCode::kFailedPrecondition,
                   "the NCCL backend is not available: Prism was built without CUDA/NCCL "
                   "(PRISM_WITH_CUDA, scripts/cmake/PrismDependencies.cmake)");
}

}  // namespace

struct NcclComm::Impl {};

bool NcclComm::Available() { return false; }
Result<std::vector<std::byte>> NcclComm::NewUniqueId() { return NotBuilt(); }
Result<std::unique_ptr<NcclComm>> NcclComm::Create(std::span<const std::byte>, int, int) {
  return NotBuilt();
}
NcclComm::NcclComm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NcclComm::~NcclComm() = default;
void NcclComm::Abort() {}
Status NcclComm::AllReduce(void*, size_t, DataType, ReduceOp, const FailedFn&, int64_t) {
  return NotBuilt();
}
Status NcclComm::Reduce(void*, size_t, DataType, ReduceOp, int, const FailedFn&, int64_t) {
  return NotBuilt();
}
Status NcclComm::Broadcast(void*, size_t, DataType, int, const FailedFn&, int64_t) {
  return NotBuilt();
}
Status NcclComm::AllGather(const void*, void*, size_t, DataType, const FailedFn&, int64_t) {
  return NotBuilt();
}
Status NcclComm::ReduceScatter(const void*, void*, size_t, DataType, ReduceOp, const FailedFn&,
                               int64_t) {
  return NotBuilt();
}
Status NcclComm::Barrier(const FailedFn&, int64_t) { return NotBuilt(); }
Status NcclComm::Send(const void*, size_t, DataType, int, const FailedFn&, int64_t) {
  return NotBuilt();
}
Status NcclComm::Recv(void*, size_t, DataType, int, const FailedFn&, int64_t) { return NotBuilt(); }

}  // namespace prism::collective
