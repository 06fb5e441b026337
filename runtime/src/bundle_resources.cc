#include "bundle_resources.h"

#include <fmt/format.h>

namespace prism::runtime {

std::string GroupResourceName(const std::string& resource, const PlacementGroupId& pg, int index) {
  return index < 0 ? fmt::format("{}_group_{}", resource, pg.Hex())
                   : fmt::format("{}_group_{}_{}", resource, index, pg.Hex());
}

ResourceSet BundleGroupResources(const ResourceSet& bundle, const PlacementGroupId& pg, int index) {
  ResourceSet out;
  for (const auto& [name, units] : bundle.entries()) {
    out.SetUnits(GroupResourceName(name, pg, index), units);
    out.SetUnits(GroupResourceName(name, pg, -1), units);
  }
  return out;
}

ResourceSet DemandInBundle(const ResourceSet& demand, const PlacementGroupId& pg, int index) {
  ResourceSet out;
  for (const auto& [name, units] : demand.entries()) {
    if (units == 0) continue;
    if (index >= 0) out.SetUnits(GroupResourceName(name, pg, index), units);
    out.SetUnits(GroupResourceName(name, pg, -1), units);
  }
  return out;
}

int ChooseBundle(const BundleLayout& layout, const ResourceSet& demand, int index, size_t start,
                 const std::function<bool(Rank, int)>& has_room, std::string* error) {
  int n = static_cast<int>(layout.bundles.size());
  if (index >= n || index < -1) {
    *error = fmt::format("bundle index {} is out of range: the placement group has {} bundles",
                         index, n);
    return -1;
  }
  std::string missing;
  if (index >= 0) {
    if (!demand.FitsIn(layout.bundles[index], &missing)) {
      *error = fmt::format("bundle {} ({}) can never hold {}: not enough '{}'", index,
                           layout.bundles[index].ToString(), demand.ToString(), missing);
      return -1;
    }
    return index;
  }
  int fallback = -1;
  for (int k = 0; k < n; ++k) {
    int b = static_cast<int>((start + static_cast<size_t>(k)) % static_cast<size_t>(n));
    if (!demand.FitsIn(layout.bundles[b])) continue;
    if (has_room(layout.ranks[b], b)) return b;
    if (fallback < 0) fallback = b;
  }
  if (fallback < 0) {
    *error = fmt::format("no bundle of the placement group can ever hold {}", demand.ToString());
  }
  return fallback;
}

int64_t BaseUnits(const ResourceSet& demand, const std::string& resource) {
  std::string prefix = resource + "_group_";
  int64_t units = 0;
  for (const auto& [name, u] : demand.entries()) {
    if (name == resource) {
      units += u;
    } else if (name.size() == prefix.size() + 24 && name.compare(0, prefix.size(), prefix) == 0) {
      units += u;  // the any-bundle form: every bundle demand has it
    }
  }
  return units;
}

bool IsGroupResourceOf(const std::string& name, const PlacementGroupId& pg) {
  std::string suffix = "_" + pg.Hex();
  return name.size() > suffix.size() && name.find("_group_") != std::string::npos &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace prism::runtime
