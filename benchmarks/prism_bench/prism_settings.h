#pragma once
/// Prism settings as the user gave them to prism-bench, read before prism::Init (which reads
/// them again itself): prism-bench picks defaults of its own (head_cpus=0) and must know the
/// CPUs Prism will give each rank, and Prism has no call that reports them yet.
///
///   std::optional<std::string> cpus = FindPrismSetting(argc, argv, "num_cpus");

#include <optional>
#include <string>

namespace prism::bench {

/// The value of Prism setting `name` (snake_case, e.g. "head_cpus") from argv
/// (--prism-<name>=<value>, with '-' or '_') or else the environment (PRISM_<NAME>); nullopt when
/// neither sets it.
std::optional<std::string> FindPrismSetting(int argc, char** argv, const std::string& name);

/// CPUs (task slots) of all ranks that run tasks: ranks >= 1, plus rank 0 when it has CPUs
/// (one rank, or head_cpus set). Mirrors Prism's documented num_cpus/head_cpus rule
/// (docs/configuration.md). Collective over MPI_COMM_WORLD, before prism::Init; valid on rank 0.
double CountTaskCpus(int argc, char** argv);

}  // namespace prism::bench
