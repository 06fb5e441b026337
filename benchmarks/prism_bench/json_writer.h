#pragma once
/// Writes records as a JSON array, the machine-readable output of prism-bench:
///
///   [{"name": "task_sync_roundtrip", "value": 5.1, "unit": "us", "p10": 4.8, "p90": 6.0,
///     "repetitions": 20000, "baseline_name": "mpi_roundtrip_8B", "baseline_value": 1.2}]
///
/// Optional fields appear only when set; non-finite numbers are written as null.

#include <ostream>
#include <string>
#include <vector>

#include "record.h"

namespace prism::bench {

/// `text` as a JSON string literal, quotes included.
std::string JsonQuote(const std::string& text);

/// `value` as a JSON number (6 significant digits), or null when it is not finite.
std::string JsonNumber(double value);

/// Writes `records` to `out` as a JSON array, one record per line.
void WriteJson(std::ostream& out, const std::vector<Record>& records);

/// Writes `records` to the file `path`; false (with `error` set) when the file cannot be written.
bool WriteJsonFile(const std::string& path, const std::vector<Record>& records, std::string* error);

}  // namespace prism::bench
