#pragma once
/// GPUs of the current task or actor (the seed's ray.get_gpu_ids()).
///
///   int Train(int steps) {                       // submitted with .SetResource("GPU", 1)
///     std::vector<std::string> ids = prism::GetGpuIds();   // e.g. {"5"}
///     // Built with CUDA, this thread's current device is already the first of them.
///     std::vector<std::string> env = prism::GpuEnvironment();  // for a child process:
///     // posix_spawn(..., argv, to_envp(env)) lets the child see only GPU 5.
///     return steps;
///   }
///
/// Ids are node-level GPU ids, the entries of the rank's CUDA_VISIBLE_DEVICES (positions in
/// PCI bus order when Prism placed the GPUs, Slurm's ids when Slurm bound them). Tasks asking
/// for a fraction of a GPU share its id.

#include <string>
#include <vector>

namespace prism {

/// The GPUs held by the task or actor the calling thread runs; empty in a task that asked for
/// no GPU. On the driver's own thread (outside any task): every GPU of rank 0. Throws
/// PrismError before prism::Init.
std::vector<std::string> GetGpuIds();

/// This process's environment ("NAME=value" entries) with CUDA_VISIBLE_DEVICES set to
/// GetGpuIds(), to pass to a child process the task starts (execve / posix_spawn). Tasks are
/// threads of one process, so CUDA_VISIBLE_DEVICES itself (process-wide, read by CUDA once) is
/// the rank's GPUs, not the task's: a child started with the inherited environment would see
/// all of them.
std::vector<std::string> GpuEnvironment();

}  // namespace prism
