#pragma once
/// ParseTasksPerNode: Slurm's run-length per-node counts ("2(x3),1") expanded to one count per
/// node.

#include <string_view>
#include <vector>

#include "prism/common/result.h"

namespace prism::slurm {

/// Expands a per-node count list as Slurm writes SLURM_TASKS_PER_NODE,
/// SLURM_STEP_TASKS_PER_NODE and SLURM_JOB_CPUS_PER_NODE: comma-separated counts, each
/// optionally followed by "(xN)" to repeat it for N nodes. One entry per node, in node order
/// (the order of the expanded node list).
///
///   Result<std::vector<int>> counts = ParseTasksPerNode("2(x3),1");  // {2, 2, 2, 1}
///
/// Errors (kInvalidArgument) quote the value and give the 0-based position: an empty value or
/// entry, a non-digit, a repeat count of 0, a count above 2^31-1, or more than 1,000,000 nodes.
/// Thread-safe (a pure function).
Result<std::vector<int>> ParseTasksPerNode(std::string_view value);

}  // namespace prism::slurm
