#include "bundle_host.h"

#include <fmt/format.h>

#include <algorithm>

#include "bundle_resources.h"
#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("pg");
  return logger;
}

}  // namespace

BundleHost::BundleHost(transport::Transport& transport, WorkerPool& workers, RemovedHook on_removed)
    : transport_(transport), workers_(workers), on_removed_(std::move(on_removed)) {}

void BundleHost::RegisterHandlers() {
  transport_.SetHandler(kPgPrepare,
                        [this](Rank s, std::span<const std::byte> p) { OnPrepare(s, p); });
  transport_.SetHandler(kPgCommit,
                        [this](Rank s, std::span<const std::byte> p) { OnCommit(s, p); });
  transport_.SetHandler(kPgCancel,
                        [this](Rank s, std::span<const std::byte> p) { OnCancel(s, p); });
  transport_.SetHandler(kPgReturn,
                        [this](Rank s, std::span<const std::byte> p) { OnReturn(s, p); });
}

bool BundleHost::Decode(Rank source, std::span<const std::byte> payload, const char* what,
                        BundleOp* op) {
  auto decoded = DecodeBundleOp(payload);
  if (!decoded || source != 0) {
    Log().warn("dropped a placement-group {} from rank {}: {}", what, source,
               decoded ? "only the controller (rank 0) sends it" : decoded.error().ToString());
    return false;
  }
  *op = std::move(*decoded);
  return true;
}

void BundleHost::Ack(transport::MessageType type, const BundleOp& op, bool ok, std::string reason) {
  BundleAck ack;
  ack.pg = op.pg;
  ack.seq = op.seq;
  ack.attempt = op.attempt;
  ack.ok = ok;
  ack.reason = std::move(reason);
  // Bundles take node resources only, so group resources stay out (they would make every answer
  // grow with the groups here); an overcommit (a blocked task taking its CPU back) shows as
  // nothing free.
  const ResourceSet now = workers_.Available();
  for (const auto& [name, units] : now.entries()) {
    if (name.find("_group_") != std::string::npos) continue;
    ack.available.SetUnits(name, std::max<int64_t>(units, 0));
  }
  if (Status s = transport_.Send(0, type, EncodeBundleAck(ack)); !s) {
    Log().info("placement-group answer to the controller not sent: {}", s.ToString());
  }
}

void BundleHost::OnPrepare(Rank source, std::span<const std::byte> payload) {
  BundleOp op;
  if (!Decode(source, payload, "prepare", &op)) return;
  if (op.bundles.size() != op.indexes.size() || op.bundles.empty()) {
    Log().warn("dropped a prepare of {} without bundles", op.pg.ToString());
    return;
  }
  Held held;
  held.attempt = op.attempt;
  held.indexes = op.indexes;
  held.bundles = op.bundles;
  for (const auto& b : op.bundles) held.reserved.Add(b);
  bool ok = false;
  std::string reason;
  {
    std::lock_guard lock(mu_);
    ok = workers_.TryReserve(held.reserved);
    if (ok) {
      held_[op.pg].push_back(std::move(held));
    } else {
      std::string missing;
      (void)held.reserved.FitsIn(workers_.Available(), &missing);
      reason = fmt::format("rank {} has {} free, not {} ('{}' is short)", transport_.rank(),
                           workers_.Available().ToString(), held.reserved.ToString(), missing);
    }
  }
  Log().debug("prepare {} attempt {} bundles [{}]: {}", op.pg.ToString(), op.attempt,
              fmt::join(op.indexes, ","), ok ? "reserved" : reason);
  Ack(kPgPrepared, op, ok, std::move(reason));
}

void BundleHost::OnCommit(Rank source, std::span<const std::byte> payload) {
  BundleOp op;
  if (!Decode(source, payload, "commit", &op)) return;
  bool ok = false;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(op.pg);
    if (it != held_.end()) {
      for (Held& h : it->second) {
        if (h.attempt != op.attempt || h.committed) continue;
        for (size_t i = 0; i < h.bundles.size(); ++i) {
          h.added.Add(BundleGroupResources(h.bundles[i], op.pg, h.indexes[i]));
        }
        workers_.AddCapacity(h.added);
        h.committed = true;
        ok = true;
      }
    }
  }
  if (!ok)
    Log().warn("commit of {} attempt {}: nothing prepared here", op.pg.ToString(), op.attempt);
  Ack(kPgCommitted, op, ok, ok ? "" : "nothing prepared for that attempt");
}

void BundleHost::OnCancel(Rank source, std::span<const std::byte> payload) {
  BundleOp op;
  if (!Decode(source, payload, "cancel", &op)) return;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(op.pg);
    if (it != held_.end()) {  // else never prepared, or already returned
      auto& list = it->second;
      for (auto h = list.begin(); h != list.end(); ++h) {
        if (h->attempt != op.attempt || h->committed) continue;
        workers_.Return(h->reserved);
        Log().debug("cancel {} attempt {}: returned {}", op.pg.ToString(), op.attempt,
                    h->reserved.ToString());
        list.erase(h);
        break;
      }
      if (list.empty()) held_.erase(it);
    }
  }
  Ack(kPgReleased, op, true, "");
}

void BundleHost::OnReturn(Rank source, std::span<const std::byte> payload) {
  BundleOp op;
  if (!Decode(source, payload, "return", &op)) return;
  std::vector<Held> gone;
  {
    std::lock_guard lock(mu_);
    auto it = held_.find(op.pg);
    if (it != held_.end()) {
      gone = std::move(it->second);
      held_.erase(it);
    }
  }
  if (!gone.empty()) {
    // What runs in the group ends first, so nothing new starts on resources about to go.
    if (on_removed_) on_removed_(op.pg, op.reason);
    std::lock_guard lock(mu_);
    for (const Held& h : gone) {
      if (h.committed) workers_.RemoveCapacity(h.added);
      workers_.Return(h.reserved);
    }
    Log().debug("return {}: {} reservation(s) given back", op.pg.ToString(), gone.size());
  }
  Ack(kPgReleased, op, true, "");
}

ResourceSet BundleHost::Reserved(const PlacementGroupId& pg) const {
  std::lock_guard lock(mu_);
  ResourceSet out;
  auto it = held_.find(pg);
  if (it == held_.end()) return out;
  for (const Held& h : it->second) out.Add(h.reserved);
  return out;
}

size_t BundleHost::groups() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

}  // namespace prism::runtime
