#pragma once
// BundleHost: this rank's side of placement-group reservations (every rank). The controller on
// rank 0 drives a two-phase protocol per group and rank:
//   Prepare(attempt, bundles)  take the bundles' resources from the rank's ledger now, all of them
//                              or none (WorkerPool::TryReserve), and say which
//   Commit(attempt)            add the bundles' group resources (CPU_group_<i>_<pg>, ...) so work
//                              scheduled into them can run here
//   Cancel(attempt)            give back what that attempt prepared (another rank refused)
//   Return(pg)                 the group is removed: what runs in it ends (the executors' hooks),
//                              its group resources go, and the reserved resources come back
// Every operation is answered with the rank's available resources right after it, tagged with
// the operation's sequence number, so the controller plans with fresh figures.
// Messages from any rank but 0 are dropped; so are malformed ones.
//
// Thread contract: thread-safe; handlers run in progress context and never block.

#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "pg_messages.h"
#include "prism/transport/transport.h"
#include "resources.h"
#include "worker_pool.h"

namespace prism::runtime {

class BundleHost {
 public:
  /// Ends the work of group `pg` on this rank (tasks fail, actors die); called before its
  /// resources go. Must not block.
  using RemovedHook = std::function<void(const PlacementGroupId& pg, const std::string& reason)>;

  BundleHost(transport::Transport& transport, WorkerPool& workers, RemovedHook on_removed);

  void RegisterHandlers();

  /// What this rank holds for `pg`: reserved node resources (prepared or committed).
  ResourceSet Reserved(const PlacementGroupId& pg) const;
  /// Groups with bundles (prepared or committed) here.
  size_t groups() const;

 private:
  // Bundles of one group prepared (and maybe committed) here in one attempt.
  struct Held {
    uint64_t attempt = 0;
    bool committed = false;
    std::vector<int32_t> indexes;
    std::vector<ResourceSet> bundles;
    ResourceSet reserved;  // node resources taken at Prepare
    ResourceSet added;     // group resources added at Commit
  };

  void OnPrepare(Rank source, std::span<const std::byte> payload);
  void OnCommit(Rank source, std::span<const std::byte> payload);
  void OnCancel(Rank source, std::span<const std::byte> payload);
  void OnReturn(Rank source, std::span<const std::byte> payload);
  /// Decodes a BundleOp from rank 0, or logs and drops it.
  bool Decode(Rank source, std::span<const std::byte> payload, const char* what, BundleOp* op);
  /// Answers operation `op` with this rank's available resources after it.
  void Ack(transport::MessageType type, const BundleOp& op, bool ok, std::string reason);

  transport::Transport& transport_;
  WorkerPool& workers_;
  RemovedHook on_removed_;
  mutable std::mutex mu_;
  std::unordered_map<PlacementGroupId, std::vector<Held>> held_;
};

}  // namespace prism::runtime
