#pragma once
// PlacementGroupManager: the placement-group controller on rank 0 (PG-01..20).
//
// - Table: every group of the job by id, its name (job-scoped in the job's namespace, or
//   global), bundles, strategy, state and where each bundle lives. Removed groups stay as
//   tombstones (the most recent `max_tombstones`) so that GetState says kRemoved.
// - Creation: a request (kPgRequest) is checked against the totals of the live ranks; a group no
//   set of them could ever hold is refused (PlacementGroupUnschedulableError, naming what is
//   missing) unless `wait_when_infeasible`, then it stays pending with a warning. Otherwise it
//   is stored as pending and a first attempt starts at once.
// - Attempts (atomic, two-phase): the bundles are planned on ranks (a rank is a node) from each
//   rank's last answer to this controller (for report_staleness_ms) or else its resource report,
//   adjusted by the operations it has not answered yet; each chosen rank is asked to Prepare its
//   bundles; when every one said yes they are told to Commit, and the group is kCreated once every
//   commit is acknowledged. One refusal cancels the attempt everywhere (nothing stays reserved) and
//   the group is tried again after a backoff, sooner when a group is removed. Late yes-answers of
//   old attempts are cancelled.
// - Removal: its ranks return the bundles (their executors end what runs in it), every rank's
//   cache drops the group (kPgUpdate), and watchers hear kRemoved.
// - Rank failure (PG-20): bundles on a dead rank are placed again on live ranks; the group is
//   kRescheduling meanwhile, and rescheduling goes before other pending groups.
//
// Thread contract: thread-safe. Handlers run in progress context and never block; a retry
// thread (`prism-pg-retry`) makes the attempts that wait for a backoff. Messages are sent while
// the table's lock is held, so each rank sees operations in the order they were decided
// (Transport::Send keeps call order and never blocks).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bundle_placement.h"
#include "cluster_view.h"
#include "pg_messages.h"
#include "prism/transport/transport.h"

namespace prism::runtime {

class PlacementGroupManager {
 public:
  struct Options {
    bool wait_when_infeasible = false;  // `scheduler_infeasible` == "wait"
    int64_t report_staleness_ms = 50;   // a rank's answer beats its report for this long
    int64_t retry_min_ms = 5;
    int64_t retry_max_ms = 200;
    size_t max_tombstones = 10000;
  };
  /// This rank's own available resources now (fresher than its report in the view).
  using LocalAvailable = std::function<ResourceSet()>;

  PlacementGroupManager(transport::Transport& transport, ClusterView& view,
                        LocalAvailable local_available, const Options& options);
  ~PlacementGroupManager();
  PlacementGroupManager(const PlacementGroupManager&) = delete;
  PlacementGroupManager& operator=(const PlacementGroupManager&) = delete;

  void RegisterHandlers();
  /// Stops the retry thread (idempotent); nothing is sent afterwards.
  void Stop();
  void OnPeerFailure(Rank rank);

 private:
  struct Group {
    PgInfo info;
    std::string scope;  // name scope; empty when anonymous
    uint64_t order = 0;
    // The attempt in flight (0: none).
    uint64_t attempt = 0;
    bool committing = false;
    std::vector<Rank> planned;  // per bundle: this attempt's rank (kNoRank: not in it)
    std::set<Rank> waiting;     // ranks that have not answered this phase
    std::set<Rank> prepared;    // ranks that said yes to Prepare
    bool refused = false;
    std::string refusal;
    int64_t next_try_ns = 0;
    int64_t backoff_ms = 0;
    std::vector<std::pair<Rank, uint64_t>> watchers;  // (rank, request id) waiting for creation
  };
  struct Outgoing {
    Rank rank;
    transport::MessageType type;
    std::vector<std::byte> payload;
  };
  using Outbox = std::vector<Outgoing>;
  // What this controller knows of a rank's availability beyond its resource reports: the
  // rank's answer to the last operation it acknowledged, and what the operations it has not
  // acknowledged yet will take or give back.
  struct RankLedger {
    uint64_t sent = 0;   // operations sent (BundleOp::seq)
    uint64_t acked = 0;  // the highest acknowledged
    bool answered = false;
    ResourceSet available;  // as of `acked`
    int64_t answered_ns = 0;
    struct Pending {
      uint64_t seq;
      ResourceSet amount;
      bool returned;  // given back (cancel, return); else taken (prepare)
    };
    std::deque<Pending> pending;
  };

  void OnRequest(Rank source, std::span<const std::byte> payload);
  void OnPrepared(Rank source, std::span<const std::byte> payload);
  void OnCommitted(Rank source, std::span<const std::byte> payload);
  void OnReleased(Rank source, std::span<const std::byte> payload);
  PgReply Create(const PgRequest& request, Outbox& out);
  PgReply Remove(const PlacementGroupId& id, Outbox& out);
  void Reply(Rank rank, PgReply reply, Outbox& out);

  // Everything below runs with mu_ held.
  Group* Find(const PlacementGroupId& id);
  /// What each live rank has of the resources `bundles` name (nullopt: dead).
  std::vector<std::optional<ResourceSet>> AvailableLocked(const std::vector<ResourceSet>& bundles);
  std::vector<std::optional<ResourceSet>> TotalsLocked();
  void TryPlaceLocked(Group& g, Outbox& out);
  void FailAttemptLocked(Group& g, const std::string& why, Outbox& out);
  void FinishCommitLocked(Group& g, Outbox& out);
  void RetryLaterLocked(Group& g);
  void WakeAllPendingLocked();
  void NotifyWatchersLocked(Group& g, Outbox& out);
  /// The next operation to `rank`, taking (or giving back) `amount` there.
  uint64_t StampLocked(Rank rank, const ResourceSet& amount, bool returned);
  void AckedLocked(Rank rank, const BundleAck& ack);
  void BroadcastLocked(const PgUpdate& update, Outbox& out);
  void Flush(Outbox& out);  // with mu_ held
  void RetryLoop(const std::stop_token& stop);

  transport::Transport& transport_;
  ClusterView& view_;
  LocalAvailable local_available_;
  Options options_;
  Rank self_;

  std::mutex mu_;
  std::unordered_map<PlacementGroupId, Group> groups_;    // not removed
  std::unordered_map<PlacementGroupId, PgInfo> removed_;  // tombstones (tombstones_: oldest first)
  std::map<std::pair<std::string, std::string>, PlacementGroupId> names_;  // (scope, name)
  std::deque<PlacementGroupId> tombstones_;
  std::vector<RankLedger> ledgers_;
  std::vector<bool> dead_;
  uint64_t next_order_ = 1;
  uint64_t next_attempt_ = 1;
  bool stopped_ = false;

  std::condition_variable_any retry_cv_;
  bool retry_now_ = false;
  std::jthread retry_;
};

}  // namespace prism::runtime
