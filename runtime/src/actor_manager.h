#pragma once
// ActorManager: the caller and owner side of actors, on every rank.
//
// - Creation: the owner places the actor at once (ClusterView), registers its name with the
//   directory on rank 0 when it has one, and submits the factory call to that rank through the
//   TaskManager, so a handle (actor id + rank) exists before the constructor runs.
// - Calls: each gets the next sequence number of (this rank, actor), which the actor's rank uses
//   to run a caller's calls in submission order.
// - Names: requests to rank 0's ActorDirectory, answered by message (or directly on rank 0).
// - Handles: the owner counts its local handles; when the last one goes and none ever left the
//   rank (and the actor is neither named nor detached), the actor ends after the calls this rank
//   submitted (Ray's actor garbage collection, for what the owner can see).
//
// Thread contract: thread-safe.

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "actor_directory.h"
#include "actor_executor.h"
#include "cluster_view.h"
#include "object_manager.h"
#include "prism/common/futex.h"
#include "prism/runtime/internal/core.h"
#include "task_manager.h"

namespace prism::runtime {

class ActorManager {
 public:
  struct Options {
    std::string job_namespace;
    int64_t request_timeout_ms = 60000;  // name requests to rank 0
  };

  ActorManager(transport::Transport& transport, TaskManager& tasks, ObjectManager& objects,
               ClusterView& view, ActorExecutor& executor, const Options& options);

  void RegisterHandlers();
  /// Where placement groups' bundles are (set before any actor uses one).
  void SetBundleLayouts(BundleLayoutFn layouts) { layouts_ = std::move(layouts); }

  internal::ActorRef Create(const std::string& factory, const std::string& class_tag,
                            std::vector<internal::TaskArg> args,
                            const internal::ActorOptions& options);
  ObjectId Call(const internal::ActorRef& actor, const std::string& method,
                std::vector<internal::TaskArg> args, const internal::ActorCallOptions& options);
  void Kill(const internal::ActorRef& actor, bool no_restart);
  std::optional<internal::ActorRef> Lookup(const std::string& name, const std::string& name_space,
                                           bool global, const std::string& class_tag);

  void AddHandleRef(const ActorId& id);
  void RemoveHandleRef(const ActorId& id);
  void OnHandleSerialized(const ActorId& id);

  /// Releases a dead actor's name (the ActorExecutor's hook).
  void ReleaseName(const std::string& scope, const std::string& name, const ActorId& actor);
  void OnPeerFailure(Rank rank, const std::string& why);

  /// The scope string of a name in `name_space` (or the global scope).
  static std::string NameScope(const std::string& name_space, bool global);

 private:
  struct Owned {
    int64_t handles = 0;
    bool escaped = false;
    bool collectable = false;  // anonymous and not detached
    Rank rank = kNoRank;
  };
  struct PendingRequest {
    bool done = false;
    std::string failure;
    NameReply reply;
  };

  NameReply Request(NameRequest request, const char* api);
  /// The rank of the bundle the actor goes to (waiting for the group to be placed); renames its
  /// resources into the bundle's and records the group in `spec`.
  Rank PlaceInGroup(const std::string& factory, const internal::SchedulingOptions& scheduling,
                    TaskSpec* spec);
  void OnNameRequest(Rank source, std::span<const std::byte> payload);
  void OnNameReply(Rank source, std::span<const std::byte> payload);
  void SendKill(Rank rank, const KillRequest& request);

  transport::Transport& transport_;
  TaskManager& tasks_;
  ObjectManager& objects_;
  ClusterView& view_;
  ActorExecutor& executor_;
  Options options_;
  Rank self_;
  ActorDirectory directory_;  // used on rank 0 only
  BundleLayoutFn layouts_;
  std::atomic<uint64_t> next_bundle_{0};

  std::mutex mu_;
  std::unordered_map<ActorId, uint64_t> next_seq_;  // per actor: last call sequence given out
  std::unordered_map<ActorId, Owned> owned_;

  std::mutex requests_mu_;
  std::unordered_map<uint64_t, std::shared_ptr<PendingRequest>> requests_;
  std::atomic<uint64_t> next_request_{1};
  Event request_event_;
};

}  // namespace prism::runtime
