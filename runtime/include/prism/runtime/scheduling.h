#pragma once
/// Scheduling strategies (SCHED-02..08) and cluster queries (RES-25).
///
///   prism::Task(Simulate).SetSchedulingStrategy(prism::SpreadSchedulingStrategy{}).Remote(1);
///   prism::Task(Read).SetSchedulingStrategy(
///       prism::NodeAffinitySchedulingStrategy{prism::Nodes()[2].node_id, /*soft=*/true}).Remote();
///   prism::Task(Read).SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(3))
///       .Remote();
///
/// A node is a rank. Its node id is GetRuntimeContext().GetNodeId() there, and Nodes() lists
/// every rank's id, rank number and host name, so affinity can name a rank by id, by number
/// ("rank:3") or by host ("host:nid001", any rank on that host).

#include <string>
#include <unordered_map>
#include <vector>

namespace prism {

/// Pack onto busy ranks until their utilisation passes `scheduler_spread_threshold`, then pick at
/// random among the top-k least loaded; data locality first for tasks (SCHED-03, SCHED-08).
struct DefaultSchedulingStrategy {};

/// Round-robin over the ranks that can take the work (SCHED-05).
struct SpreadSchedulingStrategy {};

/// Run on one node (SCHED-07). Hard (soft = false): only there; the work waits there for
/// resources, and fails with TaskUnschedulableError / ActorUnschedulableError when the node is
/// dead or can never fit it. Soft: there when it is alive and could fit it, else anywhere.
struct NodeAffinitySchedulingStrategy {
  std::string node_id;  ///< a node id, "rank:<k>" or "host:<name>"
  bool soft = false;

  static NodeAffinitySchedulingStrategy Rank(int rank, bool soft = false) {
    return NodeAffinitySchedulingStrategy{"rank:" + std::to_string(rank), soft};
  }
  static NodeAffinitySchedulingStrategy Host(const std::string& host, bool soft = false) {
    return NodeAffinitySchedulingStrategy{"host:" + host, soft};
  }
};

/// One rank of the job, as ray.nodes() shows a node.
struct NodeInfo {
  std::string node_id;  ///< 32 hex digits
  int rank = 0;
  std::string hostname;
  bool alive = true;
  std::unordered_map<std::string, double> resources;  ///< its total resources
};

/// Every rank of the job, in rank order (RES-25).
std::vector<NodeInfo> Nodes();

/// Resources not in use right now, summed over the live ranks (RES-25); each rank's figure is
/// its last report (at most `resource_report_interval_ms` old) and this rank's own is current.
std::unordered_map<std::string, double> AvailableResources();

}  // namespace prism
