#pragma once
// ActorExecutor: the actors that live on this rank.
//
// An actor is created by running its factory on a pool worker; its methods then run on pool
// workers as CPU-free work, at most max_concurrency at once per concurrency group. A
// single-threaded actor (max_concurrency 1, no groups) runs each caller's calls in the order the
// caller submitted them (ACT-29): calls carry a per-caller sequence number and early arrivals wait
// for the gaps to fill. Threaded actors run calls as they arrive (ACT-31).
//
// Death: Kill() fails running, queued and later calls with ActorDiedError (a running call cannot be
// interrupted: its result is replaced); ExitActor() and the owner dropping its last handle end the
// actor gracefully (running calls keep their results). A dead actor stays as a tombstone so that
// later calls learn why it died. An actor whose owner rank dies dies too, unless detached. With
// restarts left, Kill(no_restart = false) runs the factory again on this rank.
//
// Thread contract: thread-safe. Deliver and Kill run in progress context or on API threads.

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "gpu_slots.h"
#include "messages.h"
#include "prism/objstore/buffer_pool.h"
#include "prism/transport/transport.h"
#include "worker_pool.h"

namespace prism::runtime {

class ActorExecutor {
 public:
  /// Sends a finished creation's or call's result to its owner.
  using ReplyFn =
      std::function<void(const TaskId& id, const std::string& function, BufferPtr result)>;
  /// Releases the name of an actor that died for good.
  using ReleaseNameFn =
      std::function<void(const std::string& scope, const std::string& name, const ActorId& actor)>;

  ActorExecutor(transport::Transport& transport, std::shared_ptr<objstore::BufferPool> pool,
                WorkerPool& workers, ReplyFn reply, ReleaseNameFn release_name);
  ~ActorExecutor();

  void RegisterHandlers();

  /// A creation or call whose arguments are here (values, or error objects that fail it).
  void Deliver(TaskSpec spec, std::vector<BufferPtr> args);
  void Kill(const KillRequest& request);
  /// Actors owned by `rank` die with it (unless detached).
  void OnPeerFailure(Rank rank, const std::string& why);
  /// Placement group `pg` was removed from this rank: its actors die for good with
  /// ActorPlacementGroupRemovedError (`reason`).
  void KillPlacementGroup(const PlacementGroupId& pg, const std::string& reason);

  /// Stops taking creations and calls (shutdown).
  void Close() { closed_.store(true); }
  /// Destroys every actor instance (after the worker pool stopped).
  void Clear();

  /// The rank's GPUs, handed to actors that ask for them (null: none).
  void SetGpuSlots(GpuSlots* gpus) { gpus_ = gpus; }

 private:
  struct Call;
  struct Group;
  struct Caller;
  struct Instance;
  struct Outbox;
  using InstancePtr = std::shared_ptr<Instance>;
  using CallPtr = std::shared_ptr<Call>;

  InstancePtr FindOrAdd(const ActorId& id);
  void Create(const InstancePtr& actor, TaskSpec spec, std::vector<BufferPtr> args, Outbox& out);
  void StartFactory(const InstancePtr& actor, const ResourceSet& demand, bool first);
  void FactoryDone(const InstancePtr& actor, std::shared_ptr<void> object, std::string failure,
                   bool first);
  void AcceptCallLocked(Instance& actor, CallPtr call, Outbox& out);
  void AdmitLocked(Instance& actor, CallPtr call, Outbox& out);
  void PumpLocked(const InstancePtr& actor);
  void Run(const InstancePtr& actor, CallPtr call, size_t group);
  /// The group's next queued call, for the thread that just ran one (keeping its slot).
  CallPtr NextInBurstLocked(Instance& actor, size_t group, int burst);
  /// Runs one admitted call; returns true when the method called ExitActor.
  bool Execute(Instance& actor, Call& call, BufferPtr* result);
  void DieLocked(Instance& actor, const std::string& cause, bool allow_restart, bool graceful,
                 Outbox& out);
  void CheckDeferredKillsLocked(Instance& actor, Outbox& out);
  BufferPtr DiedError(const Instance& actor, const TaskSpec& spec, const std::string& cause) const;
  void Flush(const InstancePtr& actor, Outbox& out);

  transport::Transport& transport_;
  std::shared_ptr<objstore::BufferPool> pool_;
  WorkerPool& workers_;
  ReplyFn reply_;
  ReleaseNameFn release_name_;
  Rank self_;
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::unordered_map<ActorId, InstancePtr> actors_;
  GpuSlots* gpus_ = nullptr;
};

}  // namespace prism::runtime
