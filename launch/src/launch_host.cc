#include "prism/launch/launch_host.h"

#include <sched.h>
#include <unistd.h>

#include <filesystem>

extern char** environ;

namespace prism::launch {

Result<LaunchHost> LaunchHost::Detect() {
  LaunchHost host;
  auto slurm = slurm::SlurmEnvironment::FromEnvironment();
  if (!slurm) return slurm.error();
  host.slurm = std::move(*slurm);
  host.is_root = geteuid() == 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  host.cpu_count = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  if (host.cpu_count < 1) host.cpu_count = 1;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) host.self_exe = self.string();
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (name.rfind("PRISM_", 0) == 0 || name.rfind("UCX_", 0) == 0) {
      host.forwarded_env.push_back(name);
    }
  }
  return host;
}

}  // namespace prism::launch
