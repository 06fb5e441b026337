// rank_env_report: prints, as one line, what Slurm told this task (parsed and checked by
// prism::slurm::SlurmEnvironment), for the slurm tests to compare across ranks:
//   task=1 node=n2 localid=0 step=3 ntasks=4 step_gpus=0,1 job_gpus=- cuda_visible_devices=1
// A malformed SLURM_* variable makes it fail (exit 1) with the error naming it; outside a job it
// prints "no slurm job" and exits 1.

#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "prism/slurm/environment.h"

namespace {

std::string Show(const std::optional<std::vector<int>>& list) {
  if (!list) return "-";
  std::ostringstream out;
  for (std::size_t i = 0; i < list->size(); ++i) out << (i ? "," : "") << (*list)[i];
  return out.str();
}

template <typename T>
std::string Show(const std::optional<T>& value) {
  if (!value) return "-";
  std::ostringstream out;
  out << *value;
  return out.str();
}

}  // namespace

int main() {
  auto env = prism::slurm::SlurmEnvironment::FromEnvironment();
  if (!env) {
    std::cerr << "rank_env_report: " << env.error().message << "\n";
    return 1;
  }
  if (!env->has_value()) {
    std::cerr << "rank_env_report: no slurm job\n";
    return 1;
  }
  const prism::slurm::SlurmEnvironment& s = **env;
  std::ostringstream line;
  line << "task=" << Show(s.procid) << " node=" << Show(s.node_name)
       << " localid=" << Show(s.localid) << " step=" << Show(s.step_id)
       << " ntasks=" << Show(s.ntasks) << " cpus_per_task=" << Show(s.cpus_per_task)
       << " step_gpus=" << Show(s.step_gpus) << " job_gpus=" << Show(s.job_gpus)
       << " cuda_visible_devices=" << Show(s.cuda_visible_devices) << "\n";
  std::cout << line.str() << std::flush;
  return 0;
}
