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
  std::string ToString() const;

 private:
  std::vector<std::pair<std::string, int64_t>> entries_;  // few entries: a vector beats a map
};

}  // namespace prism::runtime
