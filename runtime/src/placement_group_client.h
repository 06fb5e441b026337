#pragma once
// PlacementGroupClient: every rank's way to the placement-group controller on rank 0 — requests
// with ids answered by kPgReply (as ActorManager's name requests), blocking (Call) or not
// (CallAsync) — and its cache of created groups' layouts, which owners use to send work into
// bundles. The controller tells every rank when a group is removed or rescheduled (kPgUpdate);
// the cache drops it then, and the next WhenCreated asks again.
//
// Thread contract: thread-safe. Callbacks run without locks held, in progress context (or on the
// calling thread when the answer is known at once); they must not block.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "bundle_resources.h"
#include "pg_messages.h"
#include "prism/common/futex.h"
#include "prism/transport/transport.h"
#include "resources.h"

namespace prism::runtime {

/// Where a created group's bundles are: ranks[i] holds bundles[i] (bundle_resources.h).
using PlacementGroupLayout = BundleLayout;

class PlacementGroupClient {
 public:
  struct Options {
    std::string job_namespace;
    int64_t request_timeout_ms = 60000;
  };
  using ReplyCallback = std::function<void(Result<PgReply>)>;

  PlacementGroupClient(transport::Transport& transport, const Options& options);

  void RegisterHandlers();

  /// A new group id owned by this rank.
  PlacementGroupId NewId();
  /// Sends `request` to the controller and waits for its answer (request_timeout_ms at most).
  Result<PgReply> Call(PgRequest request);
  /// Sends `request`; `done` gets the answer, or an error when rank 0 cannot answer.
  void CallAsync(PgRequest request, ReplyCallback done);

  /// Calls `done` once the group is created (at once when cached), from any thread; with an
  /// error (kNotFound, message naming why) when it is removed or unknown. Never blocks.
  void WhenCreated(const PlacementGroupId& pg,
                   std::function<void(Result<PlacementGroupLayout>)> done);
  /// The layout when known and created, without waiting.
  std::optional<PlacementGroupLayout> Layout(const PlacementGroupId& pg);
  /// Waits up to `timeout_ms` for the group to be created: false on timeout or removal.
  bool WaitCreated(const PlacementGroupId& pg, int64_t timeout_ms);

  void OnPeerFailure(Rank rank, const std::string& why);
  const std::string& job_namespace() const { return options_.job_namespace; }

 private:
  void OnReply(Rank source, std::span<const std::byte> payload);
  void OnUpdate(Rank source, std::span<const std::byte> payload);
  void OnWatchAnswer(const PlacementGroupId& pg, Result<PgReply> reply);
  /// WhenCreated that returns the waiter's id (0: `done` already ran), for Forget.
  uint64_t Watch(const PlacementGroupId& pg,
                 std::function<void(Result<PlacementGroupLayout>)> done);
  void Forget(const PlacementGroupId& pg, uint64_t waiter);

  transport::Transport& transport_;
  Options options_;
  Rank self_;
  std::atomic<uint64_t> next_request_{1};
  std::atomic<uint64_t> next_seq_{1};

  std::mutex mu_;
  std::unordered_map<uint64_t, ReplyCallback> pending_;
  std::string controller_failure_;  // non-empty once rank 0 died
  std::unordered_map<PlacementGroupId, PlacementGroupLayout> cache_;
  using LayoutCallback = std::function<void(Result<PlacementGroupLayout>)>;
  // Groups with a watch in flight, and who waits for each (id, callback); an entry exists from
  // the watch's request to its answer, even when every waiter gave up.
  std::unordered_map<PlacementGroupId, std::vector<std::pair<uint64_t, LayoutCallback>>> waiters_;
  uint64_t next_waiter_ = 1;
  Event event_;  // a blocking Call or WaitCreated was answered
};

}  // namespace prism::runtime
