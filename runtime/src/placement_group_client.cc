#include "placement_group_client.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "prism/common/clock.h"
#include "prism/common/logging.h"

namespace prism::runtime {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("pg");
  return logger;
}

}  // namespace

PlacementGroupClient::PlacementGroupClient(transport::Transport& transport, const Options& options)
    : transport_(transport), options_(options), self_(transport.rank()) {}

void PlacementGroupClient::RegisterHandlers() {
  transport_.SetHandler(kPgReply, [this](Rank s, std::span<const std::byte> p) { OnReply(s, p); });
  transport_.SetHandler(kPgUpdate,
                        [this](Rank s, std::span<const std::byte> p) { OnUpdate(s, p); });
}

PlacementGroupId PlacementGroupClient::NewId() {
  return PlacementGroupId{self_, next_seq_.fetch_add(1)};
}

void PlacementGroupClient::CallAsync(PgRequest request, ReplyCallback done) {
  request.request_id = next_request_.fetch_add(1);
  std::string failure;
  {
    std::lock_guard lock(mu_);
    if (controller_failure_.empty()) {
      pending_[request.request_id] = std::move(done);
    } else {
      failure = controller_failure_;
    }
  }
  if (!failure.empty()) {
    done(MakeError(ErrorCode::kPeerDead, failure));
    return;
  }
  Status sent = transport_.Send(0, kPgRequest, EncodePgRequest(request));
  if (sent) return;
  ReplyCallback mine;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(request.request_id);
    if (it == pending_.end()) return;  // answered or failed meanwhile
    mine = std::move(it->second);
    pending_.erase(it);
  }
  mine(MakeError(ErrorCode::kUnavailable,
                 "the placement-group controller (rank 0) cannot be reached: " + sent.ToString()));
}

Result<PgReply> PlacementGroupClient::Call(PgRequest request) {
  struct Answer {
    std::atomic<bool> done{false};
    std::optional<Result<PgReply>> result;
  };
  auto answer = std::make_shared<Answer>();
  CallAsync(std::move(request), [this, answer](Result<PgReply> r) {
    answer->result.emplace(std::move(r));
    answer->done.store(true, std::memory_order_release);
    event_.Notify();
  });
  bool answered =
      transport_.WaitUntil([&] { return answer->done.load(std::memory_order_acquire); }, event_,
                           NowNanos() + options_.request_timeout_ms * 1'000'000, 20'000);
  if (!answered) {
    return MakeError(ErrorCode::kTimeout,
                     fmt::format("the placement-group controller (rank 0) did not answer within "
                                 "{} ms",
                                 options_.request_timeout_ms));
  }
  return std::move(*answer->result);
}

void PlacementGroupClient::OnReply(Rank source, std::span<const std::byte> payload) {
  auto reply = DecodePgReply(payload);
  if (!reply || source != 0) {
    Log().warn("dropped a placement-group reply from rank {}: {}", source,
               reply ? "only rank 0 answers" : reply.error().ToString());
    return;
  }
  ReplyCallback done;
  {
    std::lock_guard lock(mu_);
    auto it = pending_.find(reply->request_id);
    if (it == pending_.end()) return;  // the requester gave up
    done = std::move(it->second);
    pending_.erase(it);
  }
  done(std::move(*reply));
}

void PlacementGroupClient::OnUpdate(Rank source, std::span<const std::byte> payload) {
  auto update = DecodePgUpdate(payload);
  if (!update || source != 0) {
    Log().warn("dropped a placement-group update from rank {}: {}", source,
               update ? "only rank 0 sends it" : update.error().ToString());
    return;
  }
  std::lock_guard lock(mu_);
  cache_.erase(update->pg);
}

void PlacementGroupClient::WhenCreated(const PlacementGroupId& pg,
                                       std::function<void(Result<PlacementGroupLayout>)> done) {
  (void)Watch(pg, std::move(done));
}

uint64_t PlacementGroupClient::Watch(const PlacementGroupId& pg,
                                     std::function<void(Result<PlacementGroupLayout>)> done) {
  bool first = false;
  uint64_t waiter = 0;
  {
    std::unique_lock lock(mu_);
    auto it = cache_.find(pg);
    if (it != cache_.end()) {
      PlacementGroupLayout layout = it->second;
      lock.unlock();
      done(std::move(layout));
      return 0;
    }
    auto [entry, inserted] = waiters_.try_emplace(pg);
    first = inserted;
    waiter = next_waiter_++;
    entry->second.emplace_back(waiter, std::move(done));
  }
  if (first) {  // else a watch is on its way already
    PgRequest request;
    request.op = PgRequest::kWatch;
    request.info.id = pg;
    CallAsync(std::move(request),
              [this, pg](Result<PgReply> r) { OnWatchAnswer(pg, std::move(r)); });
  }
  return waiter;
}

void PlacementGroupClient::Forget(const PlacementGroupId& pg, uint64_t waiter) {
  std::lock_guard lock(mu_);
  auto it = waiters_.find(pg);
  if (it == waiters_.end()) return;
  auto& list = it->second;
  list.erase(std::remove_if(list.begin(), list.end(),
                            [waiter](const auto& w) { return w.first == waiter; }),
             list.end());
}

void PlacementGroupClient::OnWatchAnswer(const PlacementGroupId& pg, Result<PgReply> reply) {
  std::optional<PlacementGroupLayout> layout;
  Error error;
  if (!reply) {
    error = reply.error();
  } else if (reply->code != PgReply::kOk || reply->groups.size() != 1 ||
             reply->groups[0].ranks.size() != reply->groups[0].bundles.size()) {
    error =
        MakeError(ErrorCode::kNotFound,
                  reply->message.empty() ? fmt::format("placement group {} is not known", pg.Hex())
                                         : reply->message);
  } else {
    layout = PlacementGroupLayout{reply->groups[0].ranks, reply->groups[0].bundles};
  }
  std::vector<std::pair<uint64_t, LayoutCallback>> waiters;
  {
    std::lock_guard lock(mu_);
    if (layout) cache_[pg] = *layout;
    auto it = waiters_.find(pg);
    if (it != waiters_.end()) {
      waiters = std::move(it->second);
      waiters_.erase(it);
    }
  }
  for (auto& [id, w] : waiters) {
    if (layout) {
      w(*layout);
    } else {
      w(error);
    }
  }
}

std::optional<PlacementGroupLayout> PlacementGroupClient::Layout(const PlacementGroupId& pg) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(pg);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

bool PlacementGroupClient::WaitCreated(const PlacementGroupId& pg, int64_t timeout_ms) {
  auto outcome = std::make_shared<std::atomic<int>>(0);  // 1 created, 2 removed or unknown
  uint64_t waiter = Watch(pg, [this, outcome](Result<PlacementGroupLayout> r) {
    outcome->store(r ? 1 : 2, std::memory_order_release);
    event_.Notify();
  });
  bool answered =
      transport_.WaitUntil([&] { return outcome->load(std::memory_order_acquire) != 0; }, event_,
                           NowNanos() + std::max<int64_t>(timeout_ms, 0) * 1'000'000, 20'000);
  if (!answered && waiter != 0) Forget(pg, waiter);  // no callback piles up per timed-out Wait
  return outcome->load(std::memory_order_acquire) == 1;
}

void PlacementGroupClient::OnPeerFailure(Rank rank, const std::string& why) {
  if (rank != 0) return;
  std::string failure = "the placement-group controller (rank 0) died: " + why;
  std::unordered_map<uint64_t, ReplyCallback> failed;
  {
    std::lock_guard lock(mu_);
    controller_failure_ = failure;
    failed.swap(pending_);
  }
  for (auto& [id, done] : failed) done(MakeError(ErrorCode::kPeerDead, failure));
}

}  // namespace prism::runtime
