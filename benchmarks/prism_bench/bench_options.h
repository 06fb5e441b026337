#pragma once
/// BenchOptions: what one run of prism-bench measures and how often.
///
///   BenchOptions options("results.json", "^task_", /*quick=*/false);
///   if (options.Selected("task_sync_roundtrip")) { ... options.Repetitions(30, 2) ... }

#include <array>
#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace prism::bench {

/// Sizes of the bandwidth measures (mpi_bandwidth_<size>, transfer_bandwidth_<size>), in bytes.
inline constexpr std::array<size_t, 4> kBandwidthSizes = {size_t{1} << 20, size_t{16} << 20,
                                                          size_t{64} << 20, size_t{256} << 20};

/// "1MiB" for 1048576: the size suffix of measure names.
std::string SizeLabel(size_t bytes);

/// Every measure prism-bench can report, in the order it runs them.
const std::vector<std::string>& AllMeasureNames();

/// Parsed command line, the same on every rank. Immutable after construction.
class BenchOptions {
 public:
  /// Throws std::regex_error when `filter` is not a valid ECMAScript regular expression.
  BenchOptions(std::string json_path, const std::string& filter, bool quick);

  /// True when `name` matches the filter (every name does without one).
  bool Selected(const std::string& name) const;
  /// `full` repetitions in a normal run, `quick` ones under --quick.
  int Repetitions(int full, int quick) const { return quick_ ? quick : full; }

  /// True under --quick.
  bool quick() const { return quick_; }
  /// Where to write the JSON records; empty: nowhere.
  const std::string& json_path() const { return json_path_; }

 private:
  std::string json_path_;
  std::optional<std::regex> filter_;
  bool quick_;
};

}  // namespace prism::bench
