#pragma once
/// ExpandHostlist: Slurm's compressed host list syntax ("nid[001-004,010],login1") expanded into
/// one name per host.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "prism/common/result.h"

namespace prism::slurm {

/// Most hosts one expression may expand to; a larger one is an error, not an out-of-memory.
inline constexpr std::size_t kMaxHostlistHosts = 1'000'000;

/// Expands a Slurm hostlist expression (SLURM_JOB_NODELIST, SLURM_STEP_NODELIST, scontrol's
/// output) into host names, in order, duplicates kept.
///   - Elements are separated by commas outside brackets: "gpu[1-2],login" -> gpu1 gpu2 login.
///   - A bracket holds comma-separated numbers and ascending ranges; zero padding is kept, with
///     the width of the range's first number: "nid[001-003,010]" -> nid001 nid002 nid003 nid010,
///     "n[8-10]" -> n8 n9 n10.
///   - Several brackets in one element expand as a product, the first bracket varying slowest:
///     "rack[1-2]-n[01-02]" -> rack1-n01 rack1-n02 rack2-n01 rack2-n02.
///   - "" expands to no host.
/// Errors (kInvalidArgument) quote the expression and give the 0-based position of the problem:
/// unbalanced or nested brackets, an empty element or range, a non-digit in a bracket, a
/// descending range, whitespace, or more than kMaxHostlistHosts hosts.
///
///   Result<std::vector<std::string>> hosts = ExpandHostlist("nid[001-004,010]");
///   // {"nid001", "nid002", "nid003", "nid004", "nid010"}
///
/// Thread-safe (a pure function).
Result<std::vector<std::string>> ExpandHostlist(std::string_view expression);

}  // namespace prism::slurm
