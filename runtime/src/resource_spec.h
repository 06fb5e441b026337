#pragma once
// ResourceSpec: the `resources` setting (PRISM_RESOURCES, --prism-resources=, `prism launch
// --resources`) parsed into entries, each a list of resource amounts and the ranks it applies to.
//
// Syntax (docs/configuration.md "Resources"):
//   spec     := entry (';' entry)*                       empty entries are ignored
//   entry    := amounts ['@' selector]                   no selector: every rank
//   amounts  := name '=' amount (',' name '=' amount)*  |  JSON object {"name": amount, ...}
//   selector := item (',' item)*                         item: rank `k`, rank range `a-b`, or a
//                                                        host name / Slurm hostlist (`n[1-4]`)
// Later entries win. Amounts follow ResourceSet::Set (0.0001 precision, whole numbers above 1)
// and are at most kMaxResourceAmount. Names are letters, digits and `_-:./`.
//
//   auto spec = ParseResourceSpec("special=1@1;special=2@2-3;{\"label\": 0.001}");
//   for (const auto& e : *spec) if (e.AppliesTo(rank, host)) ...
//
// Thread contract: pure functions and value types; thread-safe.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prism/common/result.h"

namespace prism::runtime {

/// True for a usable resource name: 1..256 characters, letters, digits and `_-:./`.
bool IsValidResourceName(std::string_view name);

/// One item of a selector: ranks [first, last], or a host name.
struct RankSelectorItem {
  int first = -1;  // -1: a host item
  int last = -1;
  std::string host;
};

struct ResourceSpecEntry {
  std::string text;                                     // as written, for messages
  std::vector<std::pair<std::string, double>> amounts;  // in the order written
  std::vector<RankSelectorItem> selector;               // empty: every rank

  /// True when the entry applies to `rank` on `host`. A host item matches the host name or its
  /// first label ("n1" matches "n1.cluster.org" and the other way round).
  bool AppliesTo(int rank, std::string_view host) const;
};

/// Parses the whole setting. kInvalidArgument names the entry and what is wrong with it
/// ("resources entry 2 'GPU=1.5@3': resource GPU = 1.5: amounts above 1 must be whole numbers").
Result<std::vector<ResourceSpecEntry>> ParseResourceSpec(std::string_view text);

}  // namespace prism::runtime
