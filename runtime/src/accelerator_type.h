#pragma once
// The node's accelerator type, for the `accelerator_type:<type>` pseudo-resource (Ray's RES-21):
// a task that asks for "accelerator_type:H200" = 0.001 runs only on ranks with such GPUs.
//
// Detection (when the `accelerator_type` setting is empty), first that gives a type:
//   1. the NVIDIA driver: the "Model:" line of /proc/driver/nvidia/gpus/<bus id>/information of
//      the first GPU by bus id ("NVIDIA H200" -> "H200"); it is there whenever CUDA can be used,
//      and reading it needs no CUDA context;
//   2. Slurm: the GPU type of the job's request, "a100:2" in SLURM_GPUS_PER_TASK,
//      SLURM_GPUS_PER_NODE, SLURM_GPUS_PER_SOCKET or SLURM_GPUS ("A100");
//   3. none (empty).
// Nodes are taken to hold one kind of GPU, as Ray does. Seen with Slurm 22.05: salloc/sbatch
// `--gpus-per-task=a100:1` exports SLURM_GPUS_PER_TASK=a100:1 (its srun steps inherit it), and
// `--gpus-per-node`/`--gpus` likewise; `--gres=gpu:a100:1` exports no type, nor does a bare srun
// outside an allocation: set `accelerator_type` there.
//
//   std::string type = DetectAcceleratorType(AcceleratorSources::System());
//
// Thread contract: pure functions over the injected sources; thread-safe when they are.

#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

namespace prism::runtime {

/// Where the detection looks (tests inject their own).
struct AcceleratorSources {
  /// Folder with one sub-folder per NVIDIA GPU, each holding an `information` file.
  std::string nvidia_gpus_dir = "/proc/driver/nvidia/gpus";
  std::function<const char*(const char*)> get_env = [](const char* name) {
    return std::getenv(name);
  };
  static AcceleratorSources System() { return {}; }
};

/// A GPU model name in Ray's accelerator-type form: vendor and brand words dropped, the model
/// up to its first '-', upper case; "RTX"/"GTX" keep the next word.
///   "NVIDIA H200" -> "H200", "NVIDIA A100-SXM4-80GB" -> "A100", "Tesla V100-SXM2-16GB" -> "V100",
///   "NVIDIA H100 80GB HBM3" -> "H100", "NVIDIA GeForce RTX 4090" -> "RTX_4090", "" -> "".
std::string NormalizeGpuModel(std::string_view model);

/// The GPU type of a Slurm request value: "a100:2" -> "A100", "gpu:a100:2" -> "A100", "2" -> "",
/// "a100:1,v100:1" -> "" (mixed types).
std::string SlurmGpuType(std::string_view value);

/// The node's accelerator type as above; empty when none is known.
std::string DetectAcceleratorType(const AcceleratorSources& sources);

}  // namespace prism::runtime
