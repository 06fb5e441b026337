#include "prism/launch/launch_options.h"

#include <boost/program_options.hpp>
#include <sstream>

namespace prism::launch {
namespace po = boost::program_options;
namespace {

Error Bad(const std::string& message) { return MakeError(ErrorCode::kInvalidArgument, message); }

// The options of `prism launch`; the descriptions are what `prism launch --help` prints.
po::options_description LaunchDescription() {
  po::options_description d("prism launch options");
  // clang-format off
  d.add_options()
    ("help,h", "print this help")
    ("ranks,n", po::value<int>(), "ranks in the job; rank 0 is the driver (default: srun: the "
                                  "allocation's task count; mpirun: nodes x ranks-per-node, else "
                                  "one per core)")
    ("nodes,N", po::value<int>(), "nodes to spread the ranks over (srun -N; mpirun: the first N "
                                  "of --hosts or of the allocation)")
    ("ranks-per-node", po::value<int>(), "ranks on each node (srun --ntasks-per-node; mpirun: "
                                         "slots per host)")
    ("cpus-per-rank", po::value<int>(), "CPUs of each rank, its worker slots (srun -c; sets "
                                        "PRISM_NUM_CPUS)")
    ("gpus-per-rank", po::value<int>(), "GPUs of each rank (srun --gpus-per-task; needs Slurm)")
    ("head-cpus", po::value<double>(), "CPUs of the driver's own scheduler; 0: rank 0 runs no "
                                       "tasks (sets PRISM_HEAD_CPUS)")
    ("resources", po::value<std::string>(), "resources of the ranks, e.g. 'special=1@1;GPU=2@2-3'"
                                             " or '{\"special\": 1}' (sets PRISM_RESOURCES; "
                                             "docs/configuration.md)")
    ("hosts", po::value<std::vector<std::string>>()->composing(),
     "comma-separated hosts for mpirun (mpirun --host); repeatable")
    ("launcher", po::value<std::string>()->default_value("auto"),
     "auto (srun inside a Slurm allocation, mpirun outside), srun or mpirun")
    ("mpi", po::value<std::string>(), "srun's --mpi plugin (default: pmix, or SLURM_MPI_TYPE "
                                      "when set)")
    ("oversubscribe", po::bool_switch(), "allow more ranks x cpus than CPUs (mpirun "
                                         "--oversubscribe, srun --overcommit); automatic when "
                                         "the ranks need more CPUs than there are")
    ("recovery", po::bool_switch(), "mpirun --enable-recovery: the other ranks keep running "
                                    "when one dies (the default outside a Slurm allocation)")
    ("no-recovery", po::bool_switch(), "mpirun: end the job when one rank dies (the default "
                                       "for mpirun inside an allocation)")
    ("kill-wait", po::value<int>(), "mpirun: seconds between SIGTERM and SIGKILL when the job "
                                    "is ended (default 1; mpirun always waits this long, twice)")
    ("launcher-arg", po::value<std::vector<std::string>>()->composing(),
     "one more argument for srun/mpirun, passed as is; repeatable")
    ("dry-run", po::bool_switch(), "print the command and its environment, run nothing");
  // clang-format on
  return d;
}

Result<int> AtLeast(const po::variables_map& vm, const char* name, int least) {
  int value = vm[name].as<int>();
  if (value < least) {
    return Bad("--" + std::string(name) + ": must be at least " + std::to_string(least) + " (got " +
               std::to_string(value) + ")");
  }
  return value;
}

Result<std::vector<std::string>> SplitHosts(const std::vector<std::string>& values) {
  std::vector<std::string> hosts;
  for (const std::string& value : values) {
    std::size_t pos = 0;
    while (true) {
      std::size_t end = value.find(',', pos);
      if (end == std::string::npos) end = value.size();
      std::string host = value.substr(pos, end - pos);
      if (host.empty() || host.find_first_of(" \t:") != std::string::npos) {
        return Bad("--hosts: bad host \"" + host + "\" in \"" + value +
                   "\" (a comma-separated list of host names)");
      }
      hosts.push_back(host);
      if (end == value.size()) break;
      pos = end + 1;
    }
  }
  return hosts;
}

Result<CommandLine> ParseLaunch(const std::vector<std::string>& args) {
  CommandLine line;
  line.kind = CommandLine::Kind::kLaunch;
  LaunchOptions& o = line.launch;
  // Everything after "--" is the program; before it, options and then the program's first words.
  std::vector<std::string> before = args;
  std::vector<std::string> after;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      before.assign(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i));
      after.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
  }
  po::options_description all = LaunchDescription();
  all.add_options()("command", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("command", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(before).options(all).positional(positional).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::string message = e.what();
    if (dynamic_cast<const po::unknown_option*>(&e) != nullptr) {
      message +=
          " (put the program and its own options after \"--\": prism launch -n 4 -- "
          "./app --its-option)";
    }
    return Bad(message);
  }
  if (vm.count("help") != 0U) {
    line.kind = CommandLine::Kind::kLaunchHelp;
    return line;
  }
  if (vm.count("ranks") != 0U) {
    auto v = AtLeast(vm, "ranks", 1);
    if (!v) return v.error();
    o.ranks = *v;
  }
  if (vm.count("nodes") != 0U) {
    auto v = AtLeast(vm, "nodes", 1);
    if (!v) return v.error();
    o.nodes = *v;
  }
  if (vm.count("ranks-per-node") != 0U) {
    auto v = AtLeast(vm, "ranks-per-node", 1);
    if (!v) return v.error();
    o.ranks_per_node = *v;
  }
  if (vm.count("cpus-per-rank") != 0U) {
    auto v = AtLeast(vm, "cpus-per-rank", 1);
    if (!v) return v.error();
    o.cpus_per_rank = *v;
  }
  if (vm.count("gpus-per-rank") != 0U) {
    auto v = AtLeast(vm, "gpus-per-rank", 0);
    if (!v) return v.error();
    o.gpus_per_rank = *v;
  }
  if (vm.count("head-cpus") != 0U) {
    double v = vm["head-cpus"].as<double>();
    if (!(v >= 0.0) || v > 1e6) {
      return Bad("--head-cpus: must be a number of CPUs >= 0 (got " + std::to_string(v) + ")");
    }
    o.head_cpus = v;
  }
  if (vm.count("resources") != 0U) {
    o.resources = vm["resources"].as<std::string>();
    if (o.resources->find_first_not_of(" \t") == std::string::npos) {
      return Bad("--resources: empty (name=amount[,name=amount][@ranks or hosts];...)");
    }
    if (o.resources->find_first_of("\n\r") != std::string::npos) {
      return Bad("--resources: a line break is not allowed");
    }
  }
  if (vm.count("hosts") != 0U) {
    auto hosts = SplitHosts(vm["hosts"].as<std::vector<std::string>>());
    if (!hosts) return hosts.error();
    o.hosts = std::move(*hosts);
  }
  const std::string& launcher = vm["launcher"].as<std::string>();
  if (launcher == "auto") {
    o.launcher = LauncherKind::kAuto;
  } else if (launcher == "srun") {
    o.launcher = LauncherKind::kSrun;
  } else if (launcher == "mpirun") {
    o.launcher = LauncherKind::kMpirun;
  } else {
    return Bad("--launcher: \"" + launcher + "\" is not one of auto, srun, mpirun");
  }
  if (vm.count("mpi") != 0U) {
    o.srun_mpi = vm["mpi"].as<std::string>();
    if (o.srun_mpi->empty()) return Bad("--mpi: empty plugin name");
  }
  o.dry_run = vm["dry-run"].as<bool>();
  o.oversubscribe = vm["oversubscribe"].as<bool>();
  if (vm["recovery"].as<bool>() && vm["no-recovery"].as<bool>()) {
    return Bad("--recovery and --no-recovery: choose one");
  }
  if (vm["recovery"].as<bool>()) o.recovery = true;
  if (vm["no-recovery"].as<bool>()) o.recovery = false;
  if (vm.count("kill-wait") != 0U) {
    auto v = AtLeast(vm, "kill-wait", 0);
    if (!v) return v.error();
    o.kill_wait_s = *v;
  }
  if (vm.count("launcher-arg") != 0U) {
    o.launcher_args = vm["launcher-arg"].as<std::vector<std::string>>();
  }
  if (vm.count("command") != 0U) o.command = vm["command"].as<std::vector<std::string>>();
  o.command.insert(o.command.end(), after.begin(), after.end());
  if (o.command.empty() || o.command.front().empty()) {
    return Bad("no program to launch: prism launch [options] -- ./app [args...]");
  }
  return line;
}

Result<CommandLine> ParseRankExec(const std::vector<std::string>& args) {
  CommandLine line;
  line.kind = CommandLine::Kind::kRankExec;
  if (args.size() < 4 || args[0] != "--status-dir" || args[2] != "--") {
    return Bad(
        "usage: prism rank-exec --status-dir DIR -- program [args...] (started by "
        "prism launch under mpirun)");
  }
  line.rank_exec.status_dir = args[1];
  line.rank_exec.command.assign(args.begin() + 3, args.end());
  return line;
}

Result<CommandLine> ParseMemory(const std::vector<std::string>& args) {
  CommandLine line;
  line.kind = CommandLine::Kind::kMemory;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      line.kind = CommandLine::Kind::kMemoryHelp;
      return line;
    }
    if ((a == "--session" || a == "--timeout") && i + 1 >= args.size()) {
      return Bad("prism memory: " + a + " needs a value (prism memory --help)");
    }
    if (a == "--session") {
      line.memory.session = args[++i];
    } else if (a == "--timeout") {
      const std::string& v = args[++i];
      char* end = nullptr;
      double seconds = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size() || !(seconds > 0)) {
        return Bad("prism memory: --timeout '" + v + "' is not a positive number of seconds");
      }
      line.memory.timeout_s = seconds;
    } else {
      return Bad("prism memory: unknown option '" + a + "' (prism memory --help)");
    }
  }
  return line;
}

}  // namespace

Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    return CommandLine{};
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "launch") return ParseLaunch(rest);
  if (args[0] == "rank-exec") return ParseRankExec(rest);
  if (args[0] == "memory") return ParseMemory(rest);
  return Bad("unknown command '" + args[0] + "' (commands: launch, memory; prism --help)");
}

std::string MainHelp() {
  return "prism: runs Prism jobs on a workstation or a cluster\n"
         "\n"
         "usage:\n"
         "  prism launch [options] -- ./app [args...]   start a Prism job (srun inside a Slurm\n"
         "                                              allocation, mpirun outside one)\n"
         "  prism launch --help                         the launch options\n"
         "  prism memory [--session DIR] [--timeout S]  a running job's memory summary (its\n"
         "                                              store use, spills and references per\n"
         "                                              rank; the newest running job by default)\n"
         "  prism --help                                this text\n"
         "\n"
         "Exit status: the job's (rank 0's) exit code; 128+N when it died of signal N;\n"
         "2 for a bad command line; 127 when the launcher program cannot be started.\n"
         "docs/launching.md explains each launcher flag Prism uses and why.\n";
}

std::string LaunchHelp() {
  std::ostringstream out;
  out << "usage: prism launch [options] -- ./app [args...]\n"
         "\n"
         "Starts ./app as a Prism job: inside a Slurm allocation (SLURM_JOB_ID set) with\n"
         "`srun --mpi=pmix`, outside one with `mpirun --bind-to none` (Prism binds its own\n"
         "threads). SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are forwarded to the\n"
         "launcher's process group.\n"
         "\n"
      << LaunchDescription()
      << "\n"
         "examples:\n"
         "  prism launch -n 4 -- ./build/bin/monte_carlo_pi 32 200000\n"
         "  prism launch --dry-run -N 2 --ranks-per-node 4 --cpus-per-rank 8 -- ./app\n"
         "  prism launch -n 2 --hosts node1,node2 -- ./app     (mpirun over ssh)\n";
  return out.str();
}

std::string MemoryHelp() {
  return "usage: prism memory [--session DIR] [--timeout SECONDS]\n"
         "\n"
         "Prints a running job's memory summary (prism::MemorySummary: object store use and\n"
         "capacity, spilled and restored bytes, references by type, resident memory, per rank).\n"
         "The job's driver answers through its session directory.\n"
         "\n"
         "  --session DIR      the job's session directory; default: the newest running job of\n"
         "                     this user under $PRISM_SESSION_ROOT (else $TMPDIR, else /tmp)\n"
         "  --timeout SECONDS  how long to wait for the answer (default 10)\n";
}

}  // namespace prism::launch
