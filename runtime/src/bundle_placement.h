#pragma once
// Where a placement group's bundles go (a rank is a node), and whether they could go anywhere:
// the controller's pure planning functions (PlacementGroupManager).
//
//   STRICT_PACK    every bundle on one rank (best fit; joining bundles already placed)
//   PACK           one rank if any holds them all, else largest bundles first onto the ranks
//                  already holding most of the group (best fit among equals)
//   SPREAD         largest bundles first onto the ranks holding fewest of the group (most room
//                  among equals)
//   STRICT_SPREAD  a bipartite matching of bundles to distinct ranks not holding the group yet
//                  (exact: it finds an assignment whenever one exists)
//
// Thread contract: pure functions; thread-safe.

#include <optional>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "prism/runtime/placement_group.h"
#include "resources.h"

namespace prism::runtime {

/// Where the bundles of a group not placed yet can go: `available` per rank (nullopt: not usable),
/// `placed` the ranks of bundles already placed (kNoRank for those to place). Returns a rank
/// per bundle (placed ones unchanged), or nullopt when the strategy cannot be met.
std::optional<std::vector<Rank>> PlanBundles(
    PlacementStrategy strategy, const std::vector<ResourceSet>& bundles,
    const std::vector<Rank>& placed, const std::vector<std::optional<ResourceSet>>& available);

/// Why no set of ranks with these `totals` (nullopt: not a live rank) could ever hold the
/// bundles, naming the missing resource; nullopt when they might. Exact for STRICT_PACK and
/// STRICT_SPREAD; for PACK and SPREAD it checks every bundle and the sum of each resource.
std::optional<std::string> WhyInfeasible(PlacementStrategy strategy,
                                         const std::vector<ResourceSet>& bundles,
                                         const std::vector<std::optional<ResourceSet>>& totals);

/// "PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD".
const char* PlacementStrategyName(PlacementStrategy strategy);

}  // namespace prism::runtime
