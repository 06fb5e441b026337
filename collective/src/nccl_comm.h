#pragma once
// NcclComm: the NCCL backend of one group member: a communicator made from an ncclUniqueId that
// member 0 created and the rendezvous handed to everyone, on the CUDA device current at
// InitGroup, with one CUDA stream. Operations are enqueued on the stream and waited for by
// polling the stream, the communicator's asynchronous error and the group's failure.
//
// Built only when CUDA and NCCL were found (PRISM_HAVE_NCCL); otherwise Available() is false and
// every entry point returns an error saying so (nccl_unavailable.cc).
//
// Thread contract: the owning member's thread; Abort from any thread.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "prism/collective/types.h"
#include "prism/common/result.h"

namespace prism::collective {

class NcclComm {
 public:
  /// True when Prism was built with NCCL.
  static bool Available();
  /// A fresh ncclUniqueId, as bytes (member 0).
  static Result<std::vector<std::byte>> NewUniqueId();
  /// Joins the communicator (collective over the group's members).
  static Result<std::unique_ptr<NcclComm>> Create(std::span<const std::byte> unique_id,
                                                  int world_size, int rank);
  ~NcclComm();
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  /// Ends the communicator at once (a member died); operations in flight fail.
  void Abort();

  /// `failed()` ends waits early; `timeout_ns` < 0: no limit.
  using FailedFn = std::function<bool()>;
  Status AllReduce(void* data, size_t count, DataType type, ReduceOp op, const FailedFn& failed,
                   int64_t timeout_ns);
  Status Reduce(void* data, size_t count, DataType type, ReduceOp op, int root,
                const FailedFn& failed, int64_t timeout_ns);
  Status Broadcast(void* data, size_t count, DataType type, int root, const FailedFn& failed,
                   int64_t timeout_ns);
  Status AllGather(const void* send, void* recv, size_t count, DataType type,
                   const FailedFn& failed, int64_t timeout_ns);
  Status ReduceScatter(const void* send, void* recv, size_t count, DataType type, ReduceOp op,
                       const FailedFn& failed, int64_t timeout_ns);
  Status Barrier(const FailedFn& failed, int64_t timeout_ns);
  Status Send(const void* data, size_t count, DataType type, int peer, const FailedFn& failed,
              int64_t timeout_ns);
  Status Recv(void* data, size_t count, DataType type, int peer, const FailedFn& failed,
              int64_t timeout_ns);

  struct Impl;

 private:
  explicit NcclComm(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace prism::collective
