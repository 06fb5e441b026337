#pragma once
/// CpuSet: a set of processing units (hardware threads), named by their OS index.

#include <string>
#include <string_view>
#include <vector>

#include "prism/common/result.h"

namespace prism::gpu {

/// A set of PUs (processing units, hardware threads) named by OS index, as the kernel and
/// hwloc's "P#" numbering do. Printed in list form: "0-3,8".
///
///   CpuSet set({8, 0, 1, 2, 3});
///   set.ToString();                        // "0-3,8"
///   Result<CpuSet> same = CpuSet::Parse("0-3,8");
///   set.Contains(2);                       // true
///
/// Thread contract: a value type; const methods are thread-safe.
class CpuSet {
 public:
  /// Largest PU index Parse accepts, so that "0-4000000000" is an error, not 16 GB of ints.
  static constexpr int kMaxPuIndex = (1 << 20) - 1;

  CpuSet() = default;

  /// The set of `pus`, in any order; duplicates are ignored. Every index must be in
  /// [0, kMaxPuIndex] (checked: a negative index is a bug in the caller).
  explicit CpuSet(std::vector<int> pus);

  /// Parses list form: "0-3,8", "5", or "" for the empty set. Errors (kInvalidArgument) name the
  /// text and the bad token: empty entries, non-digits, descending ranges, indices above
  /// kMaxPuIndex.
  static Result<CpuSet> Parse(std::string_view text);

  /// The PUs, ascending, without duplicates.
  const std::vector<int>& pus() const { return pus_; }
  int size() const { return static_cast<int>(pus_.size()); }
  bool empty() const { return pus_.empty(); }

  bool Contains(int pu) const;
  bool Intersects(const CpuSet& other) const;
  bool IsSubsetOf(const CpuSet& other) const;
  CpuSet Intersection(const CpuSet& other) const;
  CpuSet Union(const CpuSet& other) const;

  /// List form with ascending ranges: "0-3,8"; "" for the empty set.
  std::string ToString() const;

  bool operator==(const CpuSet& other) const = default;

 private:
  std::vector<int> pus_;  // Sorted, unique.
};

}  // namespace prism::gpu
