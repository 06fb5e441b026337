// The placement-group API (prism/runtime/placement_group.h) on top of the PlacementGroupClient,
// and the wiring of the placement-group parts into CoreRuntime (its BuildPlacementGroups).

#include <fmt/format.h>

#include "bundle_host.h"
#include "core_runtime.h"
#include "placement_group_client.h"
#include "placement_group_manager.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/placement_group.h"

namespace prism {
namespace runtime {

struct CoreRuntime::PlacementGroupParts {
  std::unique_ptr<PlacementGroupClient> client;
  std::unique_ptr<BundleHost> host;
  std::unique_ptr<PlacementGroupManager> controller;  // rank 0
};

PlacementGroupClient& CoreRuntime::placement_groups() { return *placement_groups_->client; }

void CoreRuntime::StopPlacementGroups() {
  // The controller's retry thread uses the view and the transport: it ends before they do.
  if (placement_groups_ && placement_groups_->controller) placement_groups_->controller->Stop();
}

void CoreRuntime::BuildPlacementGroups() {
  // scheduler_infeasible was checked with the other scheduler settings in Build.
  auto parts = std::make_shared<PlacementGroupParts>();
  parts->client = std::make_unique<PlacementGroupClient>(
      *transport_, PlacementGroupClient::Options{job_.job_namespace, config_.startup_timeout_ms});
  parts->host = std::make_unique<BundleHost>(
      *transport_, *workers_, [this](const PlacementGroupId& pg, const std::string& reason) {
        executor_->CancelPlacementGroup(pg, reason);
        actor_executor_->KillPlacementGroup(pg, reason);
      });
  if (rank_ == 0) {
    PlacementGroupManager::Options options;
    options.wait_when_infeasible = config_.scheduler_infeasible == "wait";
    // A rank's answer to the controller beats its resource report for a few report intervals.
    options.report_staleness_ms = std::max<int64_t>(50, 4 * config_.resource_report_interval_ms);
    parts->controller = std::make_unique<PlacementGroupManager>(
        *transport_, *view_, [this] { return workers_->Available(); }, options);
    parts->controller->RegisterHandlers();
  }
  parts->client->RegisterHandlers();
  parts->host->RegisterHandlers();
  // Owners schedule tasks and actors into bundles from the client's layouts.
  PlacementGroupClient* client = parts->client.get();
  auto layouts = [client](const PlacementGroupId& pg,
                          std::function<void(Result<BundleLayout>)> done) {
    client->WhenCreated(pg, std::move(done));
  };
  tasks_->SetBundleLayouts(layouts);
  actors_->SetBundleLayouts(layouts);
  PlacementGroupParts* raw = parts.get();
  transport_->AddPeerFailureHandler([raw](Rank r, const std::string& why) {
    if (raw->controller) raw->controller->OnPeerFailure(r);
    raw->client->OnPeerFailure(r, why);
  });
  placement_groups_ = std::move(parts);
}

}  // namespace runtime

namespace {

// The controller's answer, or a PrismError naming `api` and why there was none.
runtime::PgReply Ask(runtime::CoreRuntime& rt, runtime::PgRequest request, const char* api) {
  auto reply = rt.placement_groups().Call(std::move(request));
  if (!reply) throw PrismError(fmt::format("{}: {}", api, reply.error().message));
  return std::move(*reply);
}

Bundle ToBundle(const runtime::ResourceSet& set) {
  Bundle out;
  for (const auto& [name, amount] : set.Amounts()) out[name] = amount;
  return out;
}

PlacementGroup ToHandle(const runtime::PgInfo& info) {
  std::vector<Bundle> bundles;
  bundles.reserve(info.bundles.size());
  for (const auto& b : info.bundles) bundles.push_back(ToBundle(b));
  return PlacementGroup(info.id, info.name, std::move(bundles), info.strategy);
}

PlacementGroupId ParseId(const std::string& hex, const char* api) {
  PlacementGroupId id = PlacementGroupId::FromHex(hex);
  if (id.IsNil()) {
    throw PrismError(
        fmt::format("{}: '{}' is not a placement group id (24 hex digits, as "
                    "PlacementGroup::GetID() gives)",
                    api, hex));
  }
  return id;
}

std::optional<PlacementGroup> GetById(runtime::CoreRuntime& rt, const PlacementGroupId& id,
                                      const char* api) {
  runtime::PgRequest request;
  request.op = runtime::PgRequest::kGet;
  request.info.id = id;
  runtime::PgReply reply = Ask(rt, std::move(request), api);
  if (reply.code != runtime::PgReply::kOk || reply.groups.empty()) return std::nullopt;
  return ToHandle(reply.groups.front());
}

PlacementGroup GetByName(const std::string& name, bool global, const char* api) {
  auto rt = runtime::CoreRuntime::Require(api);
  if (name.empty()) throw PrismError(fmt::format("{}: the name is empty", api));
  runtime::PgRequest request;
  request.op = runtime::PgRequest::kGetByName;
  request.name_space = rt->placement_groups().job_namespace();
  request.info.name = name;
  request.info.global = global;
  runtime::PgReply reply = Ask(*rt, std::move(request), api);
  if (reply.code != runtime::PgReply::kOk || reply.groups.empty()) return PlacementGroup();
  return ToHandle(reply.groups.front());
}

}  // namespace

PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options) {
  constexpr const char* kApi = "prism::CreatePlacementGroup";
  auto rt = runtime::CoreRuntime::Require(kApi);
  if (options.bundles.empty()) {
    throw PrismError(
        fmt::format("{}: the bundle list is empty (a group needs at least one "
                    "bundle, e.g. {{{{\"CPU\", 1}}}})",
                    kApi));
  }
  int strategy = static_cast<int>(options.strategy);
  if (strategy < 0 || strategy > static_cast<int>(PlacementStrategy::kStrictSpread)) {
    throw PrismError(fmt::format("{}: unknown placement strategy {}", kApi, strategy));
  }
  if (options.global && options.name.empty()) {
    throw PrismError(fmt::format("{}: a global placement group needs a name", kApi));
  }
  runtime::PgRequest request;
  request.op = runtime::PgRequest::kCreate;
  request.name_space = rt->placement_groups().job_namespace();
  runtime::PgInfo& info = request.info;
  info.id = rt->placement_groups().NewId();
  info.name = options.name;
  info.global = options.global;
  info.strategy = options.strategy;
  for (size_t i = 0; i < options.bundles.size(); ++i) {
    const Bundle& bundle = options.bundles[i];
    if (bundle.empty()) throw PrismError(fmt::format("{}: bundle {} is empty", kApi, i));
    runtime::ResourceSet set;
    bool any = false;
    for (const auto& [name, amount] : bundle) {
      if (name.empty()) {
        throw PrismError(fmt::format("{}: bundle {} has a resource with an empty name", kApi, i));
      }
      if (Status s = set.Set(name, amount); !s) {
        throw PrismError(
            fmt::format("{}: bundle {}, resource '{}': {}", kApi, i, name, s.error().message));
      }
      any |= set.Units(name) > 0;
    }
    if (!any) {
      throw PrismError(
          fmt::format("{}: bundle {} asks for no resources (every amount is 0)", kApi, i));
    }
    info.bundles.push_back(std::move(set));
  }
  runtime::PgReply reply = Ask(*rt, std::move(request), kApi);
  switch (reply.code) {
    case runtime::PgReply::kOk:
      return PlacementGroup(info.id, options.name, options.bundles, options.strategy);
    case runtime::PgReply::kUnschedulable:
      throw PlacementGroupUnschedulableError(fmt::format("{}: {}", kApi, reply.message));
    default:
      throw PrismError(fmt::format("{}: {}", kApi, reply.message));
  }
}

void RemovePlacementGroup(const std::string& id) {
  constexpr const char* kApi = "prism::RemovePlacementGroup";
  auto rt = runtime::CoreRuntime::Require(kApi);
  runtime::PgRequest request;
  request.op = runtime::PgRequest::kRemove;
  request.info.id = ParseId(id, kApi);
  (void)Ask(*rt, std::move(request), kApi);
}

PlacementGroup GetPlacementGroup(const std::string& id_or_name) {
  constexpr const char* kApi = "prism::GetPlacementGroup";
  auto rt = runtime::CoreRuntime::Require(kApi);
  PlacementGroupId id = PlacementGroupId::FromHex(id_or_name);
  if (!id.IsNil()) {
    if (auto found = GetById(*rt, id, kApi)) return *found;
  }
  return GetByName(id_or_name, /*global=*/false, kApi);
}

PlacementGroup GetGlobalPlacementGroup(const std::string& name) {
  return GetByName(name, /*global=*/true, "prism::GetGlobalPlacementGroup");
}

std::vector<PlacementGroup> GetAllPlacementGroups() {
  constexpr const char* kApi = "prism::GetAllPlacementGroups";
  auto rt = runtime::CoreRuntime::Require(kApi);
  runtime::PgRequest request;
  request.op = runtime::PgRequest::kGetAll;
  runtime::PgReply reply = Ask(*rt, std::move(request), kApi);
  std::vector<PlacementGroup> out;
  out.reserve(reply.groups.size());
  for (const auto& info : reply.groups) out.push_back(ToHandle(info));
  return out;
}

PlacementGroupState PlacementGroup::GetState() const {
  constexpr const char* kApi = "PlacementGroup::GetState";
  if (Empty()) return PlacementGroupState::kUnknown;
  auto rt = runtime::CoreRuntime::Require(kApi);
  runtime::PgRequest request;
  request.op = runtime::PgRequest::kGet;
  request.info.id = id_;
  runtime::PgReply reply = Ask(*rt, std::move(request), kApi);
  if (reply.code != runtime::PgReply::kOk || reply.groups.empty()) {
    return PlacementGroupState::kUnknown;
  }
  return reply.groups.front().state;
}

bool PlacementGroup::Wait(int timeout_seconds) const {
  constexpr const char* kApi = "PlacementGroup::Wait";
  if (Empty()) return false;
  auto rt = runtime::CoreRuntime::Require(kApi);
  if (rt->placement_groups().Layout(id_)) return true;
  if (timeout_seconds <= 0) return GetState() == PlacementGroupState::kCreated;
  return rt->placement_groups().WaitCreated(id_, int64_t{timeout_seconds} * 1000);
}

}  // namespace prism
