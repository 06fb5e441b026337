#pragma once
/// Record: one reported measure, as written to the JSON file and the table.
///
///   Record r = MakeRecord("single_client_put_gigabytes", Summarize(rates), "GB/s");
///   r.baseline_name = "memcpy_64MiB";
///   r.baseline_value = memcpy_rate;
///   results.Add(std::move(r));

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "stats.h"

namespace prism::bench {

/// A measure: its median with spread, and optionally a baseline measured in the same run.
struct Record {
  /// Stable snake_case name (scripts key on it).
  std::string name;
  /// The median over repetitions.
  double value = 0;
  /// Unit of value, p10, p90 and baseline_value ("us", "GB/s", "tasks/s", "ops/s").
  std::string unit;
  /// 10th and 90th percentiles over the same repetitions.
  std::optional<double> p10;
  std::optional<double> p90;
  /// How many repetitions the figures come from.
  size_t repetitions = 0;
  /// What the value is compared with, measured in the same run.
  std::optional<std::string> baseline_name;
  std::optional<double> baseline_value;
  /// Ranks of the job, when the figure depends on them (prism-init-bench).
  std::optional<int> ranks;
  /// Why the figure means something other than usual (empty when it does not).
  std::string note;
};

/// A record whose value is the median of `summary`, with its p10/p90.
Record MakeRecord(std::string name, const Summary& summary, std::string unit);

/// The records of one run, in the order they were measured, plus notes on skipped measures.
/// Not thread-safe.
class ResultSet {
 public:
  /// Appends a record.
  void Add(Record record) { records_.push_back(std::move(record)); }
  /// Notes that a measure was not run, and why.
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }

  /// The records, in the order they were added.
  const std::vector<Record>& records() const { return records_; }
  /// The notes on skipped measures, in the order they were added.
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  std::vector<Record> records_;
  std::vector<std::string> notes_;
};

}  // namespace prism::bench
