#include "placement_group_manager.h"

#include <fmt/format.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "prism/common/clock.h"
#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("pg");
  return logger;
}

std::string Scope(const std::string& name_space, bool global) {
  return global ? std::string("global") : "ns:" + name_space;
}

}  // namespace

PlacementGroupManager::PlacementGroupManager(transport::Transport& transport, ClusterView& view,
                                             LocalAvailable local_available, const Options& options)
    : transport_(transport),
      view_(view),
      local_available_(std::move(local_available)),
      options_(options),
      self_(transport.rank()) {
  dead_.assign(static_cast<size_t>(transport.size()), false);
  ledgers_.resize(static_cast<size_t>(transport.size()));
  retry_ = std::jthread([this](const std::stop_token& stop) { RetryLoop(stop); });
}

PlacementGroupManager::~PlacementGroupManager() { Stop(); }

void PlacementGroupManager::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  retry_cv_.notify_all();
  if (retry_.joinable()) {
    retry_.request_stop();
    retry_.join();
  }
}

void PlacementGroupManager::RegisterHandlers() {
  transport_.SetHandler(kPgRequest,
                        [this](Rank s, std::span<const std::byte> p) { OnRequest(s, p); });
  transport_.SetHandler(kPgPrepared,
                        [this](Rank s, std::span<const std::byte> p) { OnPrepared(s, p); });
  transport_.SetHandler(kPgCommitted,
                        [this](Rank s, std::span<const std::byte> p) { OnCommitted(s, p); });
  transport_.SetHandler(kPgReleased,
                        [this](Rank s, std::span<const std::byte> p) { OnReleased(s, p); });
}

PlacementGroupManager::Group* PlacementGroupManager::Find(const PlacementGroupId& id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : &it->second;
}

void PlacementGroupManager::OnRequest(Rank source, std::span<const std::byte> payload) {
  auto request = DecodePgRequest(payload);
  if (!request) {
    Log().warn("dropped a placement-group request from rank {}: {}", source,
               request.error().ToString());
    return;
  }
  Outbox out;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    PgReply reply;
    const PgInfo& info = request->info;
    switch (request->op) {
      case PgRequest::kCreate:
        reply = Create(*request, out);
        break;
      case PgRequest::kRemove:
        reply = Remove(info.id, out);
        break;
      case PgRequest::kGet:
        if (Group* g = Find(info.id)) {
          reply.groups.push_back(g->info);
        } else if (auto it = removed_.find(info.id); it != removed_.end()) {
          reply.groups.push_back(it->second);
        } else {
          reply.code = PgReply::kNotFound;
        }
        break;
      case PgRequest::kGetByName: {
        auto it = names_.find({Scope(request->name_space, info.global), info.name});
        Group* g = it == names_.end() ? nullptr : Find(it->second);
        if (g != nullptr) {
          reply.groups.push_back(g->info);
        } else {
          reply.code = PgReply::kNotFound;
        }
        break;
      }
      case PgRequest::kGetAll: {
        std::vector<const Group*> all;
        for (const auto& [id, g] : groups_) all.push_back(&g);
        std::sort(all.begin(), all.end(),
                  [](const Group* a, const Group* b) { return a->order < b->order; });
        for (const Group* g : all) reply.groups.push_back(g->info);
        break;
      }
      case PgRequest::kWatch: {
        Group* g = Find(info.id);
        if (g == nullptr) {
          reply.code = removed_.count(info.id) != 0 ? PgReply::kRemoved : PgReply::kNotFound;
          reply.message =
              fmt::format("placement group {} {}", info.id.Hex(),
                          reply.code == PgReply::kRemoved ? "was removed" : "is not known");
        } else if (g->info.state == PlacementGroupState::kCreated) {
          reply.groups.push_back(g->info);
        } else {
          g->watchers.emplace_back(source, request->request_id);
          return;  // answered at creation or removal
        }
        break;
      }
    }
    reply.request_id = request->request_id;
    out.push_back({source, kPgReply, EncodePgReply(reply)});
    Flush(out);
  }
}

PgReply PlacementGroupManager::Create(const PgRequest& request, Outbox& out) {
  const PgInfo& in = request.info;
  PgReply reply;
  auto invalid = [&](std::string message) {
    reply.code = PgReply::kInvalid;
    reply.message = std::move(message);
    return reply;
  };
  if (in.id.IsNil() || groups_.count(in.id) != 0 || removed_.count(in.id) != 0) {
    return invalid(fmt::format("placement group id {} is nil or already used", in.id.Hex()));
  }
  if (in.bundles.empty()) return invalid("a placement group needs at least one bundle");
  for (size_t i = 0; i < in.bundles.size(); ++i) {
    if (std::none_of(in.bundles[i].entries().begin(), in.bundles[i].entries().end(),
                     [](const auto& e) { return e.second > 0; })) {
      return invalid(fmt::format("bundle {} asks for no resources", i));
    }
  }
  std::string scope = in.name.empty() ? std::string() : Scope(request.name_space, in.global);
  if (!scope.empty()) {
    auto it = names_.find({scope, in.name});
    if (it != names_.end()) {
      return invalid(fmt::format(
          "the placement group name '{}' is already taken in {} by placement group {}", in.name,
          in.global ? std::string("the global scope")
                    : fmt::format("namespace '{}'", request.name_space),
          it->second.Hex()));
    }
  }
  if (auto why = WhyInfeasible(in.strategy, in.bundles, TotalsLocked())) {
    if (!options_.wait_when_infeasible) {
      reply.code = PgReply::kUnschedulable;
      reply.message = fmt::format(
          "{} placement group{} cannot be created: {}; a batch allocation does not grow (set "
          "scheduler_infeasible=wait to keep such a group pending)",
          PlacementStrategyName(in.strategy), in.name.empty() ? "" : " '" + in.name + "'", *why);
      return reply;
    }
    Log().warn("placement group {} stays pending: {} (scheduler_infeasible=wait)", in.id.Hex(),
               *why);
  }
  Group g;
  g.info = in;
  g.info.state = PlacementGroupState::kPending;
  g.info.ranks.assign(in.bundles.size(), kNoRank);
  g.scope = scope;
  g.order = next_order_++;
  auto [it, inserted] = groups_.emplace(in.id, std::move(g));
  if (!scope.empty()) names_[{scope, in.name}] = in.id;
  Log().debug("placement group {} ({} bundles, {}) pending", in.id.Hex(), in.bundles.size(),
              PlacementStrategyName(in.strategy));
  TryPlaceLocked(it->second, out);
  return reply;
}

PgReply PlacementGroupManager::Remove(const PlacementGroupId& id, Outbox& out) {
  PgReply reply;
  Group* g = Find(id);
  if (g == nullptr) return reply;     // unknown or already removed: nothing to do
  std::map<Rank, ResourceSet> ranks;  // what each rank gives back
  for (size_t i = 0; i < g->info.ranks.size(); ++i) {
    Rank r = g->info.ranks[i];
    if (r == kNoRank && i < g->planned.size()) r = g->planned[i];
    if (r != kNoRank) ranks[r].Add(g->info.bundles[i]);
  }
  BundleOp op;
  op.pg = id;
  op.reason = fmt::format("its placement group {} was removed", id.Hex());
  for (const auto& [r, amount] : ranks) {
    if (dead_[r]) continue;
    op.seq = StampLocked(r, amount, /*returned=*/true);
    out.push_back({r, kPgReturn, EncodeBundleOp(op)});
  }
  g->info.state = PlacementGroupState::kRemoved;
  NotifyWatchersLocked(*g, out);
  BroadcastLocked(PgUpdate{id, PlacementGroupState::kRemoved}, out);
  if (!g->scope.empty()) {
    auto it = names_.find({g->scope, g->info.name});
    if (it != names_.end() && it->second == id) names_.erase(it);
  }
  removed_[id] = g->info;
  groups_.erase(id);
  tombstones_.push_back(id);
  while (tombstones_.size() > options_.max_tombstones) {
    removed_.erase(tombstones_.front());
    tombstones_.pop_front();
  }
  Log().debug("placement group {} removed; bundles returned on {} rank(s)", id.Hex(), ranks.size());
  WakeAllPendingLocked();  // its resources may let a pending group in
  return reply;
}

void PlacementGroupManager::OnPrepared(Rank source, std::span<const std::byte> payload) {
  auto ack = DecodeBundleAck(payload);
  if (!ack) {
    Log().warn("dropped a prepare answer from rank {}: {}", source, ack.error().ToString());
    return;
  }
  Outbox out;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    AckedLocked(source, *ack);
    Group* g = Find(ack->pg);
    bool current = g != nullptr && g->attempt == ack->attempt && !g->committing &&
                   g->waiting.count(source) != 0;
    if (!current) {
      // An attempt that already failed (or a group removed since): give back what it took.
      if (ack->ok) {
        BundleOp cancel;
        cancel.pg = ack->pg;
        cancel.attempt = ack->attempt;
        cancel.seq = StampLocked(source, ResourceSet(), /*returned=*/true);
        out.push_back({source, kPgCancel, EncodeBundleOp(cancel)});
      }
    } else {
      g->waiting.erase(source);
      if (!ack->ok) {
        FailAttemptLocked(*g, fmt::format("rank {} refused: {}", source, ack->reason), out);
      } else {
        g->prepared.insert(source);
        if (g->waiting.empty()) {
          // Every rank holds its bundles: the point of no return.
          g->committing = true;
          BundleOp commit;
          commit.pg = g->info.id;
          commit.attempt = g->attempt;
          for (Rank r : g->prepared) {
            g->waiting.insert(r);
            commit.seq = StampLocked(r, ResourceSet(), false);
            out.push_back({r, kPgCommit, EncodeBundleOp(commit)});
          }
        }
      }
    }
    Flush(out);
  }
}

void PlacementGroupManager::OnCommitted(Rank source, std::span<const std::byte> payload) {
  auto ack = DecodeBundleAck(payload);
  if (!ack) {
    Log().warn("dropped a commit answer from rank {}: {}", source, ack.error().ToString());
    return;
  }
  Outbox out;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    AckedLocked(source, *ack);
    Group* g = Find(ack->pg);
    if (g == nullptr || g->attempt != ack->attempt || !g->committing ||
        g->waiting.erase(source) == 0) {
      return;  // removed meanwhile (its bundles were returned), or a stale answer
    }
    if (!ack->ok) {
      Log().error("rank {} could not commit {}: {}", source, ack->pg.Hex(), ack->reason);
      for (Rank& r : g->planned) {
        if (r == source) r = kNoRank;
      }
    }
    if (g->waiting.empty()) FinishCommitLocked(*g, out);
    Flush(out);
  }
}

void PlacementGroupManager::OnReleased(Rank source, std::span<const std::byte> payload) {
  auto ack = DecodeBundleAck(payload);
  if (!ack) {
    Log().warn("dropped a release answer from rank {}: {}", source, ack.error().ToString());
    return;
  }
  std::lock_guard lock(mu_);
  if (stopped_) return;
  AckedLocked(source, *ack);
  // Resources came back there: a pending group may fit now.
  bool any_pending = false;
  for (const auto& [id, g] : groups_) {
    any_pending |= g.attempt == 0 && g.info.state != PlacementGroupState::kCreated;
  }
  if (any_pending) WakeAllPendingLocked();
}

void PlacementGroupManager::FinishCommitLocked(Group& g, Outbox& out) {
  bool complete = true;
  for (size_t i = 0; i < g.info.ranks.size(); ++i) {
    if (g.info.ranks[i] == kNoRank && i < g.planned.size()) g.info.ranks[i] = g.planned[i];
    complete &= g.info.ranks[i] != kNoRank;
  }
  g.attempt = 0;
  g.committing = false;
  g.planned.clear();
  g.waiting.clear();
  g.prepared.clear();
  if (!complete) {
    // A rank died while committing: place what it held again.
    g.next_try_ns = 0;
    retry_now_ = true;
    retry_cv_.notify_all();
    return;
  }
  g.info.state = PlacementGroupState::kCreated;
  g.backoff_ms = 0;
  Log().debug("placement group {} created on ranks [{}]", g.info.id.Hex(),
              fmt::join(g.info.ranks, ","));
  NotifyWatchersLocked(g, out);
}

void PlacementGroupManager::FailAttemptLocked(Group& g, const std::string& why, Outbox& out) {
  BundleOp cancel;
  cancel.pg = g.info.id;
  cancel.attempt = g.attempt;
  for (Rank r : g.prepared) {
    if (dead_[r]) continue;
    ResourceSet amount;
    for (size_t i = 0; i < g.planned.size(); ++i) {
      if (g.planned[i] == r) amount.Add(g.info.bundles[i]);
    }
    cancel.seq = StampLocked(r, amount, /*returned=*/true);
    out.push_back({r, kPgCancel, EncodeBundleOp(cancel)});
  }
  Log().debug("placement group {}: attempt {} failed ({}); trying again later", g.info.id.Hex(),
              g.attempt, why);
  g.attempt = 0;
  g.committing = false;
  g.planned.clear();
  g.waiting.clear();
  g.prepared.clear();
  RetryLaterLocked(g);
}

void PlacementGroupManager::TryPlaceLocked(Group& g, Outbox& out) {
  if (g.attempt != 0 || g.info.state == PlacementGroupState::kCreated ||
      g.info.state == PlacementGroupState::kRemoved) {
    return;
  }
  auto available = AvailableLocked(g.info.bundles);
  auto plan = PlanBundles(g.info.strategy, g.info.bundles, g.info.ranks, available);
  if (!plan) {
    RetryLaterLocked(g);
    return;
  }
  g.attempt = next_attempt_++;
  if (Log().should_log(spdlog::level::debug)) {
    std::string seen;
    for (size_t r = 0; r < available.size(); ++r) {
      if (available[r]) seen += fmt::format(" {}:{}", r, available[r]->ToString());
    }
    Log().debug("placement group {}: attempt {} on ranks [{}], planned from{}", g.info.id.Hex(),
                g.attempt, fmt::join(*plan, ","), seen);
  }
  g.committing = false;
  g.planned.assign(g.info.bundles.size(), kNoRank);
  g.waiting.clear();
  g.prepared.clear();
  std::map<Rank, BundleOp> ops;
  for (size_t i = 0; i < g.info.bundles.size(); ++i) {
    if (g.info.ranks[i] != kNoRank) continue;
    Rank r = (*plan)[i];
    g.planned[i] = r;
    BundleOp& op = ops[r];
    op.indexes.push_back(static_cast<int32_t>(i));
    op.bundles.push_back(g.info.bundles[i]);
  }
  for (auto& [r, op] : ops) {
    ResourceSet amount;
    for (const auto& b : op.bundles) amount.Add(b);
    op.pg = g.info.id;
    op.attempt = g.attempt;
    op.seq = StampLocked(r, amount, /*returned=*/false);
    g.waiting.insert(r);
    out.push_back({r, kPgPrepare, EncodeBundleOp(op)});
  }
}

void PlacementGroupManager::RetryLaterLocked(Group& g) {
  g.backoff_ms =
      g.backoff_ms == 0 ? options_.retry_min_ms : std::min(2 * g.backoff_ms, options_.retry_max_ms);
  g.next_try_ns = NowNanos() + g.backoff_ms * 1'000'000;
  retry_cv_.notify_all();
}

void PlacementGroupManager::WakeAllPendingLocked() {
  for (auto& [id, g] : groups_) {
    if (g.attempt == 0 && g.info.state != PlacementGroupState::kCreated) {
      g.next_try_ns = 0;
      g.backoff_ms = 0;
    }
  }
  retry_now_ = true;
  retry_cv_.notify_all();
}

void PlacementGroupManager::NotifyWatchersLocked(Group& g, Outbox& out) {
  for (const auto& [rank, request_id] : g.watchers) {
    PgReply reply;
    reply.request_id = request_id;
    if (g.info.state == PlacementGroupState::kCreated) {
      reply.groups.push_back(g.info);
    } else {
      reply.code = PgReply::kRemoved;
      reply.message = fmt::format("placement group {} was removed", g.info.id.Hex());
    }
    out.push_back({rank, kPgReply, EncodePgReply(reply)});
  }
  g.watchers.clear();
}

void PlacementGroupManager::BroadcastLocked(const PgUpdate& update, Outbox& out) {
  auto bytes = EncodePgUpdate(update);
  for (Rank r = 0; r < static_cast<Rank>(dead_.size()); ++r) {
    if (!dead_[r]) out.push_back({r, kPgUpdate, bytes});
  }
}

uint64_t PlacementGroupManager::StampLocked(Rank rank, const ResourceSet& amount, bool returned) {
  RankLedger& ledger = ledgers_[rank];
  uint64_t seq = ++ledger.sent;
  if (!amount.empty()) ledger.pending.push_back(RankLedger::Pending{seq, amount, returned});
  return seq;
}

void PlacementGroupManager::AckedLocked(Rank rank, const BundleAck& ack) {
  if (rank < 0 || rank >= static_cast<Rank>(ledgers_.size())) return;
  RankLedger& ledger = ledgers_[rank];
  if (ack.seq <= ledger.acked || ack.seq > ledger.sent) return;  // stale (or forged)
  ledger.acked = ack.seq;
  ledger.answered = true;
  ledger.available = ack.available;
  ledger.answered_ns = NowNanos();
  while (!ledger.pending.empty() && ledger.pending.front().seq <= ack.seq) {
    ledger.pending.pop_front();
  }
}

std::vector<std::optional<ResourceSet>> PlacementGroupManager::AvailableLocked(
    const std::vector<ResourceSet>& bundles) {
  // Only the resources the bundles name matter: a rank's set also holds every group's resources.
  std::vector<std::string> names;
  for (const auto& b : bundles) {
    for (const auto& [name, units] : b.entries()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  auto only_names = [&](const ResourceSet& from) {
    ResourceSet out;
    for (const auto& name : names) out.SetUnits(name, from.Units(name));
    return out;
  };
  int64_t fresh_after = NowNanos() - options_.report_staleness_ms * 1'000'000;
  std::vector<std::optional<ResourceSet>> out(dead_.size());
  for (const auto& s : view_.Snapshot()) {
    if (s.rank < 0 || s.rank >= static_cast<Rank>(out.size()) || !s.alive || dead_[s.rank]) {
      continue;
    }
    const RankLedger& ledger = ledgers_[s.rank];
    if (s.rank == self_ && local_available_) {
      out[s.rank] = only_names(local_available_());
    } else if (ledger.answered && ledger.answered_ns > fresh_after) {
      out[s.rank] = only_names(ledger.available);  // fresher than its report
    } else {
      out[s.rank] = only_names(s.available);
    }
    for (const auto& p : ledger.pending) {
      if (p.returned) {
        out[s.rank]->Add(p.amount);
      } else {
        out[s.rank]->Subtract(p.amount);
      }
    }
  }
  return out;
}

std::vector<std::optional<ResourceSet>> PlacementGroupManager::TotalsLocked() {
  std::vector<std::optional<ResourceSet>> out(dead_.size());
  for (const auto& s : view_.Snapshot()) {
    if (s.rank < 0 || s.rank >= static_cast<Rank>(out.size()) || !s.alive || dead_[s.rank]) {
      continue;
    }
    out[s.rank] = s.total;
  }
  return out;
}

void PlacementGroupManager::OnPeerFailure(Rank rank) {
  if (rank < 0 || rank >= static_cast<Rank>(dead_.size())) return;
  Outbox out;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || dead_[rank]) return;
    dead_[rank] = true;
    for (auto& [id, g] : groups_) {
      if (g.attempt != 0 &&
          std::find(g.planned.begin(), g.planned.end(), rank) != g.planned.end()) {
        if (!g.committing) {
          g.prepared.erase(rank);
          FailAttemptLocked(g, fmt::format("rank {} died", rank), out);
        } else {
          for (Rank& r : g.planned) {
            if (r == rank) r = kNoRank;
          }
          g.waiting.erase(rank);
          if (g.waiting.empty()) FinishCommitLocked(g, out);
        }
      }
      bool lost = false;
      for (Rank& r : g.info.ranks) {
        if (r == rank) {
          r = kNoRank;
          lost = true;
        }
      }
      if (!lost) continue;
      // PG-20: place the lost bundles again, before other pending groups.
      if (g.info.state == PlacementGroupState::kCreated) {
        g.info.state = PlacementGroupState::kRescheduling;
        BroadcastLocked(PgUpdate{id, PlacementGroupState::kRescheduling}, out);
      }
      Log().warn("placement group {} lost its bundles on rank {}: placing them again", id.Hex(),
                 rank);
      g.next_try_ns = 0;
      g.backoff_ms = 0;
    }
    retry_now_ = true;
    Flush(out);
  }
  retry_cv_.notify_all();
}

// Sends under mu_: the order of operations to a rank must be the order they were decided in
// (a Return before the Prepare that counts on it), and Transport::Send keeps the order of its
// calls. Send never blocks (a call that cannot take the transport is queued for its holder).
void PlacementGroupManager::Flush(Outbox& out) {
  for (auto& m : out) {
    if (Status s = transport_.Send(m.rank, m.type, m.payload); !s) {
      Log().debug("placement-group message {} to rank {} not sent: {}", m.type, m.rank,
                  s.ToString());
    }
  }
  out.clear();
}

void PlacementGroupManager::RetryLoop(const std::stop_token& stop) {
  pthread_setname_np(pthread_self(), "prism-pg-retry");
  std::unique_lock lock(mu_);
  while (!stop.stop_requested() && !stopped_) {
    int64_t now = NowNanos();
    int64_t next = now + 1'000'000'000;  // idle: look again in a second
    std::vector<Group*> due;
    for (auto& [id, g] : groups_) {
      if (g.attempt != 0 || g.info.state == PlacementGroupState::kCreated) continue;
      if (g.next_try_ns <= now) {
        due.push_back(&g);
      } else {
        next = std::min(next, g.next_try_ns);
      }
    }
    retry_now_ = false;
    if (!due.empty() && transport_.running()) {
      // Rescheduling first (PG-20), then in creation order.
      std::sort(due.begin(), due.end(), [](const Group* a, const Group* b) {
        bool ra = a->info.state == PlacementGroupState::kRescheduling;
        bool rb = b->info.state == PlacementGroupState::kRescheduling;
        return ra != rb ? ra : a->order < b->order;
      });
      Outbox out;
      for (Group* g : due) TryPlaceLocked(*g, out);
      Flush(out);
      continue;
    }
    retry_cv_.wait_for(lock, stop, std::chrono::nanoseconds(std::max<int64_t>(next - now, 0)),
                       [this] { return retry_now_ || stopped_; });
  }
}

}  // namespace prism::runtime
