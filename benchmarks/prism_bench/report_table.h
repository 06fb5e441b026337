#pragma once
/// The human-readable summary of a run: one row per record (median, p10, p90, baseline and the
/// ratio value / baseline), then the notes on measures that were skipped.

#include <ostream>

#include "record.h"

namespace prism::bench {

/// Prints `results` as an aligned text table.
void PrintTable(std::ostream& out, const ResultSet& results);

}  // namespace prism::bench
