#include "prism_settings.h"

#include <mpi.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string_view>

namespace prism::bench {

std::optional<std::string> FindPrismSetting(int argc, char** argv, const std::string& name) {
  std::string dashed = name;
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    for (const std::string& spelling : {name, dashed}) {
      std::string prefix = "--prism-" + spelling + "=";
      if (arg.starts_with(prefix)) return std::string(arg.substr(prefix.size()));
    }
  }
  std::string env = "PRISM_" + name;
  std::transform(env.begin(), env.end(), env.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (const char* value = std::getenv(env.c_str()); value != nullptr) return std::string(value);
  return std::nullopt;
}

namespace {

// A CPU count setting; negative means "auto" (as Prism's default of -1).
double ParseCpus(const std::optional<std::string>& text) {
  if (!text) return -1;
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  return end == text->c_str() ? -1 : value;
}

// Prism's automatic num_cpus: the cores the rank is bound to, or, unbound, the host's cores
// divided by the ranks on the host.
double AutoCpus() {
  MPI_Comm host;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &host);
  int local_size = 1;
  MPI_Comm_size(host, &local_size);
  MPI_Comm_free(&host);
  cpu_set_t set;
  CPU_ZERO(&set);
  int allowed = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
  int online = static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  if (allowed < online) return std::max(1, allowed);
  return std::max(1, allowed / std::max(1, local_size));
}

}  // namespace

double CountTaskCpus(int argc, char** argv) {
  int rank = 0;
  int world_size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  const double auto_cpus = AutoCpus();  // collective: every rank calls it
  double cpus = ParseCpus(FindPrismSetting(argc, argv, "num_cpus"));
  if (cpus < 0) cpus = auto_cpus;
  if (rank == 0 && world_size > 1) {
    std::optional<std::string> head = FindPrismSetting(argc, argv, "head_cpus");
    if (!head) {
      cpus = 0;  // prism-bench's own default (MakePrismConfig in main.cc)
    } else if (double head_cpus = ParseCpus(head); head_cpus >= 0) {
      cpus = head_cpus;
    }
  }
  double total = 0;
  MPI_Reduce(&cpus, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
  return total;
}

}  // namespace prism::bench
