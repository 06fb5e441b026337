#pragma once
// Placement-group bundle resources (Ray's naming). A bundle {CPU: 2} of group G committed on a
// rank adds two resources there: "CPU_group_<i>_<G>" (this bundle, index i) and
// "CPU_group_<G>" (any bundle of G on this rank, summed over them). A task or actor scheduled
// into bundle i demands both names; one that accepts any bundle (index -1) demands the second.
// The node's own CPU/GPU/... that a bundle reserves are taken from the rank's pool at Prepare,
// so reserved resources serve only work scheduled into the group (PG-03).

#include <functional>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "resources.h"

namespace prism::runtime {

/// Where a created placement group's bundles are: ranks[i] holds bundles[i].
struct BundleLayout {
  std::vector<Rank> ranks;
  std::vector<ResourceSet> bundles;
};
/// Calls `done` (from any thread, maybe at once) with the layout once the group is created, or
/// with an error when it was removed or never existed. Implemented by the placement-group client.
using BundleLayoutFn =
    std::function<void(const PlacementGroupId&, std::function<void(Result<BundleLayout>)>)>;

/// The bundle of `layout` for work needing `demand` at `index` (-1: the first bundle, from
/// `start` on, that can ever hold it and, by `has_room`, has room now; else the first that can
/// hold it). -1 with `error` set when none can hold it or the index is out of range.
int ChooseBundle(const BundleLayout& layout, const ResourceSet& demand, int index, size_t start,
                 const std::function<bool(Rank, int)>& has_room, std::string* error);

/// "<resource>_group_<index>_<pg hex>", or "<resource>_group_<pg hex>" for index -1.
std::string GroupResourceName(const std::string& resource, const PlacementGroupId& pg, int index);

/// What committing bundle `index` of `pg` adds to its rank: both names for every resource.
ResourceSet BundleGroupResources(const ResourceSet& bundle, const PlacementGroupId& pg, int index);

/// The demand of work scheduled into bundle `index` (-1: any bundle) of `pg`.
ResourceSet DemandInBundle(const ResourceSet& demand, const PlacementGroupId& pg, int index);

/// Units of `resource` that a demand takes, whether plain ("GPU") or from a bundle (its
/// "GPU_group_<pg>" entry): which GPUs a task holds follows from this.
int64_t BaseUnits(const ResourceSet& demand, const std::string& resource);

/// True when `name` is a placement-group resource of `pg` (either form).
bool IsGroupResourceOf(const std::string& name, const PlacementGroupId& pg);

}  // namespace prism::runtime
