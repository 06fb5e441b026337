#include "prism/launch/launch_plan.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <numeric>
#include <string_view>

namespace prism::launch {
namespace {

Error Bad(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }

std::string Num(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// PRISM_* settings every rank reads (common/include/prism/common/config_def.h).
std::vector<std::pair<std::string, std::string>> PrismEnv(const LaunchOptions& o) {
  std::vector<std::pair<std::string, std::string>> env;
  if (o.cpus_per_rank) env.emplace_back("PRISM_NUM_CPUS", std::to_string(*o.cpus_per_rank));
  if (o.head_cpus) env.emplace_back("PRISM_HEAD_CPUS", Num(*o.head_cpus));
  if (o.resources) env.emplace_back("PRISM_RESOURCES", *o.resources);
  return env;
}

// -n from the options: given, or nodes x ranks-per-node. Checks that they agree.
Result<std::optional<int>> Ranks(const LaunchOptions& o, std::optional<int> nodes) {
  if (o.ranks_per_node && nodes) {
    long most = static_cast<long>(*o.ranks_per_node) * *nodes;
    if (!o.ranks) {
      if (most > 1'000'000) return Bad("--nodes x --ranks-per-node: too many ranks");
      return std::optional<int>(static_cast<int>(most));
    }
    if (*o.ranks > most) {
      return Bad("--ranks " + std::to_string(*o.ranks) + " is more than --nodes " +
                 std::to_string(*nodes) + " x --ranks-per-node " +
                 std::to_string(*o.ranks_per_node));
    }
  }
  return o.ranks;
}

Result<LaunchPlan> PlanSrun(const LaunchOptions& o, const LaunchHost& host) {
  if (!host.slurm) {
    return Bad(
        "--launcher=srun: not inside a Slurm allocation (SLURM_JOB_ID is not set; use "
        "salloc/sbatch, or --launcher=mpirun)");
  }
  if (!o.hosts.empty()) {
    return Bad(
        "--hosts: srun runs on the allocation's nodes; use -N/--nodes, or "
        "--launcher=mpirun to name hosts");
  }
  const slurm::SlurmEnvironment& job = *host.slurm;
  if (o.nodes && job.nnodes && *o.nodes > *job.nnodes) {
    return Bad("--nodes " + std::to_string(*o.nodes) + ": the allocation has only " +
               std::to_string(*job.nnodes) + " node(s)");
  }
  auto ranks = Ranks(o, o.nodes);
  if (!ranks) return ranks.error();

  LaunchPlan plan;
  plan.launcher = LauncherKind::kSrun;
  plan.env = PrismEnv(o);
  std::vector<std::string>& a = plan.argv;
  a.push_back("srun");
  // Debian's Open MPI can be started by srun only through PMIx (ENV.md §7). A site default in
  // SLURM_MPI_TYPE is left to srun.
  if (o.srun_mpi) {
    a.push_back("--mpi=" + *o.srun_mpi);
  } else if (!job.mpi_type) {
    a.push_back("--mpi=pmix");
  }
  if (*ranks) a.insert(a.end(), {"-n", std::to_string(**ranks)});
  if (o.nodes) a.insert(a.end(), {"-N", std::to_string(*o.nodes)});
  if (o.ranks_per_node) a.push_back("--ntasks-per-node=" + std::to_string(*o.ranks_per_node));
  if (o.cpus_per_rank) a.insert(a.end(), {"-c", std::to_string(*o.cpus_per_rank)});
  if (o.gpus_per_rank) a.push_back("--gpus-per-task=" + std::to_string(*o.gpus_per_rank));
  // The allocation (its cgroup/cpuset) still confines the job; within a node Prism divides the
  // CPUs among its ranks and pins its own threads, as under mpirun --bind-to none.
  a.push_back("--cpu-bind=none");
  // Keep the step when a task exits badly or a node fails, as far as Slurm allows (its PMIx
  // plugin still ends the step when an MPI rank dies: ENV.md §4).
  a.insert(a.end(), {"--kill-on-bad-exit=0", "--no-kill"});
  // One Ctrl-C ends the job (srun's default needs two within a second).
  a.push_back("--quit-on-interrupt");
  bool over = o.oversubscribe;
  if (!over && *ranks && job.job_cpus_per_node) {
    const std::vector<int>& cpus = *job.job_cpus_per_node;
    std::size_t n = o.nodes ? std::min<std::size_t>(*o.nodes, cpus.size()) : cpus.size();
    long have = std::accumulate(cpus.begin(), cpus.begin() + static_cast<std::ptrdiff_t>(n), 0L);
    long need = static_cast<long>(**ranks) * o.cpus_per_rank.value_or(1);
    over = need > have;
  }
  if (over) a.push_back("--overcommit");
  plan.oversubscribed = over;
  a.insert(a.end(), o.launcher_args.begin(), o.launcher_args.end());
  a.insert(a.end(), o.command.begin(), o.command.end());
  return plan;
}

Result<LaunchPlan> PlanMpirun(const LaunchOptions& o, const LaunchHost& host) {
  if (o.gpus_per_rank) {
    return Bad(
        "--gpus-per-rank: GPUs per rank are assigned by Slurm (srun --gpus-per-task); "
        "under mpirun each rank uses the GPUs closest to its cores");
  }
  // The hosts: --hosts, or (inside an allocation, with --nodes) the allocation's first nodes.
  std::vector<std::string> hosts = o.hosts;
  if (hosts.empty() && o.nodes && host.slurm && host.slurm->job_nodelist) {
    hosts = *host.slurm->job_nodelist;
  }
  if (o.nodes) {
    if (hosts.empty() && *o.nodes > 1) {
      return Bad("--nodes " + std::to_string(*o.nodes) +
                 ": outside a Slurm allocation mpirun needs the hosts (--hosts a,b,...)");
    }
    if (!hosts.empty() && static_cast<std::size_t>(*o.nodes) > hosts.size()) {
      return Bad("--nodes " + std::to_string(*o.nodes) + ": only " + std::to_string(hosts.size()) +
                 " host(s) given");
    }
    if (!hosts.empty()) hosts.resize(static_cast<std::size_t>(*o.nodes));
  }
  std::optional<int> nodes =
      hosts.empty() ? std::optional<int>(1) : std::optional<int>(static_cast<int>(hosts.size()));
  if (host.slurm && hosts.empty()) nodes = o.nodes;  // mpirun takes the allocation's nodes
  auto ranks = Ranks(o, nodes);
  if (!ranks) return ranks.error();
  // Slots per host: --ranks-per-node, else the ranks spread evenly.
  std::optional<int> per_host = o.ranks_per_node;
  if (!per_host && !hosts.empty() && *ranks) {
    per_host = (**ranks + static_cast<int>(hosts.size()) - 1) / static_cast<int>(hosts.size());
  }

  LaunchPlan plan;
  plan.launcher = LauncherKind::kMpirun;
  plan.env = PrismEnv(o);
  std::vector<std::string>& a = plan.argv;
  a.push_back("mpirun");
  if (host.is_root) a.push_back("--allow-run-as-root");
  // Prism binds its own threads with hwloc; MPI binding would pin a rank's threads to one core.
  a.insert(a.end(), {"--bind-to", "none"});
  int cpus = o.cpus_per_rank.value_or(1);
  bool over = o.oversubscribe;
  if (!over && host.slurm && hosts.empty()) {
    if (*ranks && host.slurm->job_cpus_per_node) {
      const std::vector<int>& c = *host.slurm->job_cpus_per_node;
      over = static_cast<long>(**ranks) * cpus > std::accumulate(c.begin(), c.end(), 0L);
    }
  } else if (!over) {
    // Per host (hosts are taken to be like this one).
    int on_one_host = hosts.empty() ? ranks->value_or(0) : per_host.value_or(1);
    over = static_cast<long>(on_one_host) * cpus > host.cpu_count;
  }
  if (over) a.push_back("--oversubscribe");
  plan.oversubscribed = over;
  // Without it mpirun kills every rank when one dies; with it the others keep running and the
  // driver decides (ENV.md §4). mpirun then exits 0 whatever the ranks did, so rank 0 runs
  // under `prism rank-exec`, which hands its exit status to this launcher.
  // Inside an allocation mpirun --enable-recovery was seen to hang after a rank's non-zero exit
  // or death (Open MPI 4.1.4 with Slurm 22.05), so there it is only used on request.
  bool recovery = o.recovery.value_or(!host.slurm);
  bool wrap = recovery && !host.status_dir.empty() && !host.self_exe.empty();
  if (recovery) a.push_back("--enable-recovery");
  // mpirun sleeps this long (twice) whenever it ends a job, even when the ranks are gone: only
  // on request.
  if (o.kill_wait_s) {
    a.insert(a.end(), {"--mca", "odls_base_sigkill_timeout", std::to_string(*o.kill_wait_s)});
  }
  if (*ranks) a.insert(a.end(), {"-n", std::to_string(**ranks)});
  if (!hosts.empty()) {
    std::string list;
    for (const std::string& h : hosts) {
      if (!list.empty()) list += ",";
      list += h;
      if (per_host) list += ":" + std::to_string(*per_host);
    }
    a.insert(a.end(), {"--host", list});
  }
  // mpirun passes only named variables to ranks on other hosts.
  std::vector<std::string> names;
  for (const auto& [name, value] : plan.env) names.push_back(name);
  for (const std::string& name : host.forwarded_env) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  for (const std::string& name : names) a.insert(a.end(), {"-x", name});
  a.insert(a.end(), o.launcher_args.begin(), o.launcher_args.end());
  if (wrap) {
    a.insert(a.end(), {host.self_exe, "rank-exec", "--status-dir", host.status_dir, "--"});
    plan.status_dir = host.status_dir;
  }
  a.insert(a.end(), o.command.begin(), o.command.end());
  return plan;
}

}  // namespace

Result<LaunchPlan> PlanLaunch(const LaunchOptions& options, const LaunchHost& host) {
  if (options.command.empty()) return Bad("no program to launch");
  LauncherKind kind = options.launcher;
  if (kind == LauncherKind::kAuto) kind = host.slurm ? LauncherKind::kSrun : LauncherKind::kMpirun;
  return kind == LauncherKind::kSrun ? PlanSrun(options, host) : PlanMpirun(options, host);
}

std::string ShellQuote(const std::string& word) {
  if (word.empty()) return "''";
  bool plain = std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("@%_-+=:,./").find(c) != std::string_view::npos;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string FormatCommand(const LaunchPlan& plan) {
  std::string line;
  for (const auto& [name, value] : plan.env) line += name + "=" + ShellQuote(value) + " ";
  for (std::size_t i = 0; i < plan.argv.size(); ++i) {
    if (i > 0) line += " ";
    line += ShellQuote(plan.argv[i]);
  }
  return line;
}

}  // namespace prism::launch
