#pragma once
// ResourceSet: amounts of named resources ("CPU", "GPU", custom) in fixed point (1e-4 units), so
// that fractional requests add and subtract exactly.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "prism/common/result.h"

namespace prism::runtime {

/// Fixed-point unit: 1 resource = 10000 units (the seed's 0.0001 precision).
inline constexpr int64_t kResourceUnit = 10000;
/// The largest amount of one resource (1e14: 100 TB of "memory" in bytes), so that sums over
/// many ranks stay far from int64's limit.
inline constexpr double kMaxResourceAmount = 1e14;

class ResourceSet {
 public:
  /// Sets `name` to `amount` (replacing an earlier value). Rejects negative, non-finite, finer
  /// than 0.0001, and non-integer amounts above 1 (the seed's rule), naming the resource.
  Status Set(const std::string& name, double amount);
  void SetUnits(const std::string& name, int64_t units);
  int64_t Units(const std::string& name) const;
  double Amount(const std::string& name) const {
    return static_cast<double>(Units(name)) / kResourceUnit;
  }
  const std::vector<std::pair<std::string, int64_t>>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  /// True when every amount here is available in `capacity`; else names the first short resource.
  bool FitsIn(const ResourceSet& capacity, std::string* missing = nullptr) const;
  /// Adds (Subtract: removes) every amount of `other`; amounts may go negative (an overcommit
  /// while a blocked task takes its CPU back). Entries that reach 0 stay (a known resource).
  void Add(const ResourceSet& other);
  void Subtract(const ResourceSet& other);
  /// Removes the entry `name` entirely (a placement-group resource that went away).
  void Erase(const std::string& name);
  /// True when no amount is negative.
  bool NonNegative() const;
  std::string ToString() const;
  /// name -> amount, for the public API.
  std::vector<std::pair<std::string, double>> Amounts() const;
  friend bool operator==(const ResourceSet& a, const ResourceSet& b);

 private:
  std::vector<std::pair<std::string, int64_t>> entries_;  // few entries: a vector beats a map
};

}  // namespace prism::runtime
