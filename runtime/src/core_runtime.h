#pragma once
// CoreRuntime: one rank's assembled runtime, from Init to Shutdown.
//
// Init on every rank: configuration, bootstrap (MPI), job identity from rank 0, logging into the
// session directory, capacities exchanged, transport connected, then the object store, object
// manager, task manager, executor, worker pool and the actor manager and executor. Rank 0 returns
// to main as the driver; every other rank serves (Serve) until the driver's shutdown or death, then
// exits the process.
//
// Shutdown is two-phase so that no rank mistakes another's orderly exit for a death: the driver
// sends Prepare (stop taking work, expect peers to leave), waits for every live rank's Ready,
// then sends Commit, and everyone tears down.
//
// Thread contract: Initialize/Finalize from one thread; accessors thread-safe.

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "actor_executor.h"
#include "actor_manager.h"
#include "binding.h"
#include "cluster_view.h"
#include "gpu_slots.h"
#include "kv_store.h"
#include "memory_file_service.h"
#include "memory_monitor.h"
#include "memory_reporter.h"
#include "object_manager.h"
#include "prism/common/config.h"
#include "prism/common/futex.h"
#include "prism/objstore/object_store.h"
#include "prism/objstore/object_transfer.h"
#include "prism/runtime/config.h"
#include "prism/transport/bootstrap.h"
#include "prism/transport/transport.h"
#include "resource_reporter.h"
#include "session.h"
#include "task_executor.h"
#include "task_manager.h"
#include "worker_pool.h"

namespace prism::runtime {

class CoreRuntime {
 public:
  /// prism::Init. Throws PrismError on rank 0; other ranks never return.
  static void Initialize(const Config& config, int argc, char** argv);
  /// prism::Shutdown on the driver. Idempotent.
  static void Finalize();
  /// The live runtime, or null.
  static std::shared_ptr<CoreRuntime> Current();
  /// The live runtime; throws PrismError naming `api` when Prism is not initialised.
  static std::shared_ptr<CoreRuntime> Require(const char* api);

  ~CoreRuntime();

  Rank rank() const { return rank_; }
  int size() const { return size_; }
  const JobInfo& job() const { return job_; }
  const std::string& hostname() const { return hostname_; }
  const SystemConfig& config() const { return config_; }
  ObjectManager& objects() { return *objects_; }
  MemoryReporter& memory() { return *memory_; }
  TaskManager& tasks() { return *tasks_; }
  ActorManager& actors() { return *actors_; }
  KvStore& kv() { return *kv_; }
  transport::Transport& transport() { return *transport_; }
  const std::shared_ptr<objstore::BufferPool>& pool() const { return pool_; }
  /// This rank's GPUs and who holds them (prism::GetGpuIds).
  GpuSlots& gpus() { return *gpus_; }
  /// Where this rank runs (cpus, GPUs, pinning).
  const RankBinding& binding() const { return binding_; }
  /// A shutdown signal arrived (SignalWatcher thread): the driver shuts the job down and exits
  /// with 128 + signal; another rank leaves the job with that code.
  void OnShutdownSignal(int signal);
  /// Every live rank's total resources (with placement-group bundles), summed.
  ResourceSet ClusterCapacity() const;
  /// Every live rank's available resources (last reports; this rank's live), summed.
  ResourceSet ClusterAvailable() const;
  ClusterView& view() { return *view_; }
  /// The node id of `rank` (a rank is a node): the job id and the rank, 32 hex digits.
  std::string NodeId(Rank rank) const;

 private:
  CoreRuntime() = default;
  void Build(const Config& config, int argc, char** argv, transport::Bootstrap& bootstrap);
  /// Connects (collective) and starts the worker threads.
  void Start();
  void RegisterShutdownHandlers();
  void OnPeerFailure(Rank rank, const std::string& why);
  void Serve();
  void ShutdownJob();
  void TearDown();
  void WriteStatus(const std::string& status) const;
  bool LostRanks();
  bool DriverDied();

  SystemConfig config_;
  Rank rank_ = 0;
  int size_ = 1;
  std::string hostname_;
  JobInfo job_;
  transport::Bootstrap* bootstrap_ = nullptr;
  RankBinding binding_;
  std::vector<std::string> spill_dirs_;  // this rank's, removed whenever it leaves
  std::unique_ptr<GpuSlots> gpus_;
  ResourceSet capacity_;                 // this rank's
  std::vector<ResourceSet> capacities_;  // every rank's

  std::unique_ptr<transport::Transport> transport_;
  std::shared_ptr<objstore::BufferPool> pool_;
  std::unique_ptr<objstore::ObjectStore> store_;
  std::unique_ptr<objstore::ObjectTransfer> transfer_;
  std::unique_ptr<ObjectManager> objects_;
  std::unique_ptr<MemoryReporter> memory_;
  std::unique_ptr<MemoryMonitor> monitor_;
  std::unique_ptr<MemoryFileService> memory_files_;  // rank 0: `prism memory`
  std::unique_ptr<ClusterView> view_;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<TaskExecutor> executor_;
  std::unique_ptr<TaskManager> tasks_;
  std::unique_ptr<ActorExecutor> actor_executor_;
  std::unique_ptr<ActorManager> actors_;
  std::unique_ptr<ResourceReporter> reporter_;
  std::unique_ptr<KvStore> kv_;  // the controller key-value store (table on rank 0)
  bool torn_down_ = false;

  // Shutdown and failures.
  std::mutex state_mu_;
  std::vector<bool> ready_;  // driver: ranks that answered Prepare
  std::vector<Rank> dead_;
  Event state_event_;
  std::atomic<bool> exit_requested_{false};
  std::atomic<int> exit_code_{0};

  // Placement groups (placement_group_*.h, bundle_host.h)
 public:
  /// Requests to the placement-group controller, and created groups' layouts (every rank).
  class PlacementGroupClient& placement_groups();

 private:
  struct PlacementGroupParts;  // client, bundle host, controller (rank 0)
  /// Builds and wires them (placement_group_api.cc); handlers registered, before Start.
  void BuildPlacementGroups();
  void StopPlacementGroups();
  std::shared_ptr<PlacementGroupParts> placement_groups_;
  // end placement groups
};

}  // namespace prism::runtime
