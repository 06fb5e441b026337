#pragma once
// Checks of every collective operation against a serial reference, run inside a group member
// (an actor method). Inputs are a deterministic function of (member, element), so each member
// computes the serial reference itself. Each check returns "" when right, or what went wrong.

#include <prism/collective/collective.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prism::collective::testing {

/// Runs every operation (AllReduce, Reduce, Broadcast, AllGather, ReduceScatter, Barrier,
/// Send/Recv, and the async forms) for each op and element type at each element count in
/// `counts`; `all_types` = false restricts to float and int32 with SUM and MAX.
std::string CheckAll(const std::string& group, const std::vector<int64_t>& counts, bool all_types);

/// AllReduce (float SUM), Broadcast and AllGather at `bytes` bytes of floats.
std::string CheckLarge(const std::string& group, int64_t bytes);

}  // namespace prism::collective::testing
