#pragma once
/// Placement groups (the seed's ray::PlacementGroup, PG-01..21): reserve bundles of resources
/// across ranks atomically (gang scheduling), then schedule tasks and actors into them.
///
///   prism::PlacementGroupCreationOptions options{
///       false, "trainers", {{{"CPU", 1.0}, {"GPU", 1.0}}, {{"CPU", 1.0}, {"GPU", 1.0}}},
///       prism::PlacementStrategy::kStrictSpread};
///   prism::PlacementGroup pg = prism::CreatePlacementGroup(options);
///   if (!pg.Wait(60)) throw std::runtime_error("no room for the trainers");
///   auto trainer = prism::Actor(MakeTrainer).SetResource("CPU", 1).SetPlacementGroup(pg, 0)
///                      .Remote();
///   ...
///   prism::RemovePlacementGroup(pg.GetID());  // ends what runs in it, frees its resources
///
/// A rank is a node: STRICT_SPREAD puts each bundle on its own rank, STRICT_PACK all of them on
/// one rank. Creation is asynchronous; the controller (rank 0) reserves every bundle or none.
/// A group that no set of ranks could ever hold (a batch allocation does not grow) makes
/// CreatePlacementGroup throw PlacementGroupUnschedulableError, naming what is missing, unless
/// the setting `scheduler_infeasible` is "wait" (then the group stays pending).

#include <string>
#include <unordered_map>
#include <vector>

#include "prism/common/ids.h"

namespace prism {

/// How bundles spread over ranks (PG-12). kPack is the default.
enum class PlacementStrategy {
  kPack = 0,          ///< as few ranks as possible, others when needed
  kSpread = 1,        ///< as many ranks as possible, sharing when needed
  kStrictPack = 2,    ///< all bundles on one rank, or pending
  kStrictSpread = 3,  ///< every bundle on a different rank, or pending
};

/// Where a placement group is in its life.
enum class PlacementGroupState {
  kPending = 0,       ///< not (yet) reserved
  kCreated = 1,       ///< every bundle reserved
  kRemoved = 2,       ///< removed; its resources are free again
  kRescheduling = 3,  ///< a rank holding some of its bundles died; those are being placed again
  kUnknown = 4,       ///< no such group (or its id was malformed)
};

/// A bundle: resource name -> amount ("CPU", "GPU", "memory", custom).
using Bundle = std::unordered_map<std::string, double>;

/// What CreatePlacementGroup makes. Field order follows the seed's C++ aggregate
/// {global, name, bundles, strategy}.
struct PlacementGroupCreationOptions {
  bool global = false;  ///< the name is visible from every namespace (GetGlobalPlacementGroup)
  std::string name;     ///< empty: anonymous
  std::vector<Bundle> bundles;
  PlacementStrategy strategy = PlacementStrategy::kPack;
};

/// A handle to a placement group; cheap to copy. A default-constructed one is Empty().
class PlacementGroup {
 public:
  PlacementGroup() = default;
  PlacementGroup(PlacementGroupId id, std::string name, std::vector<Bundle> bundles,
                 PlacementStrategy strategy)
      : id_(id), name_(std::move(name)), bundles_(std::move(bundles)), strategy_(strategy) {}

  /// 24 hex digits (accepted by GetPlacementGroup and RemovePlacementGroup).
  std::string GetID() const { return id_.IsNil() ? std::string() : id_.Hex(); }
  const std::string& GetName() const { return name_; }
  const std::vector<Bundle>& GetBundles() const { return bundles_; }
  PlacementStrategy GetStrategy() const { return strategy_; }
  bool Empty() const { return id_.IsNil(); }
  /// Asks the controller.
  PlacementGroupState GetState() const;
  /// Waits up to `timeout_seconds` for every bundle to be reserved; true when created. False on
  /// timeout, and when the group was removed.
  bool Wait(int timeout_seconds) const;

  const PlacementGroupId& id() const { return id_; }

 private:
  PlacementGroupId id_;
  std::string name_;
  std::vector<Bundle> bundles_;
  PlacementStrategy strategy_ = PlacementStrategy::kPack;
};

/// Starts reserving the bundles and returns at once (PG-04). Throws PrismError for bad bundles
/// (an empty list, an empty bundle, a bad amount) or a name already taken, and
/// PlacementGroupUnschedulableError when the job's ranks could never hold the bundles.
PlacementGroup CreatePlacementGroup(const PlacementGroupCreationOptions& options);

/// Removes the group (PG-14): the actors in it die, its tasks fail, its resources are freed.
/// Returns once the controller has taken the request; unknown ids are ignored.
void RemovePlacementGroup(const std::string& id);

/// The group with this id (GetID()) or, failing that, this job-scoped name; Empty() if none.
PlacementGroup GetPlacementGroup(const std::string& id_or_name);
/// The group created with this global name; Empty() if none.
PlacementGroup GetGlobalPlacementGroup(const std::string& name);
/// Every group of the job that was not removed, in creation order.
std::vector<PlacementGroup> GetAllPlacementGroups();

}  // namespace prism
