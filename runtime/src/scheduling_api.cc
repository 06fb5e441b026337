// prism::Nodes and prism::AvailableResources (scheduling.h).
#include "core_runtime.h"
#include "prism/runtime/scheduling.h"

namespace prism {
namespace {

std::unordered_map<std::string, double> ToMap(const runtime::ResourceSet& set) {
  std::unordered_map<std::string, double> out;
  for (const auto& [name, amount] : set.Amounts()) out[name] = amount;
  return out;
}

}  // namespace

std::vector<NodeInfo> Nodes() {
  auto rt = runtime::CoreRuntime::Require("prism::Nodes");
  std::vector<NodeInfo> out;
  for (const runtime::ClusterView::RankSnapshot& r : rt->view().Snapshot()) {
    NodeInfo node;
    node.node_id = rt->NodeId(r.rank);
    node.rank = r.rank;
    node.hostname = rt->view().hostname(r.rank);
    node.alive = r.alive;
    node.resources = ToMap(r.total);
    out.push_back(std::move(node));
  }
  return out;
}

std::unordered_map<std::string, double> AvailableResources() {
  auto rt = runtime::CoreRuntime::Require("prism::AvailableResources");
  return ToMap(rt->ClusterAvailable());
}

}  // namespace prism
