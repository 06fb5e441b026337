// prism-bench: Prism's performance against MPI and memcpy baselines measured in the same run.
//
//   mpirun -n 2 --bind-to none build/bin/prism-bench --json results.json [--filter REGEX] [--quick]
//   build/bin/prism-bench            # one rank: the cross-rank measures are skipped with a note
//
// Every rank runs the MPI baselines first (MPI is initialised here, before Prism, which then
// leaves it alone), then calls prism::Init: ranks >= 1 serve tasks inside it and exit there;
// rank 0 drives the Prism measures, prints the table and writes the JSON file.

#include <mpi.h>

#include <exception>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
// GCC 12 reports a false -Wnull-dereference inside Boost's typed_value<std::string>::notify.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/program_options.hpp>
#pragma GCC diagnostic pop
#include <prism/prism.h>

#include "actor_benchmarks.h"
#include "bandwidth_benchmarks.h"
#include "bench_options.h"
#include "collective_benchmarks.h"
#include "json_writer.h"
#include "mpi_baselines.h"
#include "object_benchmarks.h"
#include "pg_benchmarks.h"
#include "prism_settings.h"
#include "record.h"
#include "report_table.h"
#include "scheduling_benchmarks.h"
#include "spill_benchmarks.h"
#include "task_benchmarks.h"
#include "taskbench_benchmarks.h"

namespace po = boost::program_options;

namespace {

constexpr int kUsageError = 2;

// What the command line asks for.
struct CommandLine {
  bool help = false;
  bool list = false;
  bool quick = false;
  std::string json_path;
  std::string filter;
  std::string usage;
};

// The --help text: how to run, the options, and how Prism settings pass through.
std::string UsageText(const po::options_description& visible) {
  std::ostringstream out;
  out << "Usage: mpirun -n 2 --bind-to none prism-bench [--json FILE] [--filter REGEX] [--quick]\n"
         "       prism-bench [options]   (one rank: cross-rank measures are skipped)\n\n"
         "Measures Prism's tasks, actors and objects against MPI and memcpy baselines taken in\n"
         "the same run; every value is a median over repetitions (p10/p90 alongside).\n\n"
      << visible
      << "\nPrism settings pass through as --prism-<setting>=<value> (or PRISM_<SETTING> in the\n"
         "environment). Unless set either way, prism-bench runs with head_cpus=0 when there is\n"
         "more than one rank, so that rank 0 runs no tasks and every task crosses ranks.\n";
  return out.str();
}

// Throws po::error (bad options) or std::invalid_argument (an unknown argument).
CommandLine ParseCommandLine(int argc, char** argv) {
  CommandLine line;
  po::options_description visible("Options");
  visible.add_options()("help,h", po::bool_switch(&line.help), "print this help and exit")(
      "json", po::value<std::string>()->value_name("FILE"),
      "write the records as a JSON array to FILE")(
      "filter", po::value<std::string>()->value_name("REGEX"),
      "run only measures whose name matches REGEX (ECMAScript, searched)")(
      "quick", po::bool_switch(&line.quick), "tiny repetition counts (CI): every measure once")(
      "list", po::bool_switch(&line.list), "print the names of all measures and exit");
  po::parsed_options parsed =
      po::command_line_parser(argc, argv).options(visible).allow_unregistered().run();
  for (const std::string& arg : po::collect_unrecognized(parsed.options, po::include_positional)) {
    if (arg.rfind("--prism-", 0) != 0) {
      throw std::invalid_argument("unknown argument '" + arg + "'");
    }
  }
  po::variables_map vm;
  po::store(parsed, vm);
  po::notify(vm);
  // Read from the map (a typed_value bound to a std::string trips GCC 12's -Wnull-dereference).
  if (vm.count("json") != 0) line.json_path = vm["json"].as<std::string>();
  if (vm.count("filter") != 0) line.filter = vm["filter"].as<std::string>();
  line.usage = UsageText(visible);
  return line;
}

// head_cpus=0 (rank 0 runs no tasks) unless the user set head_cpus in the environment or argv.
prism::Config MakePrismConfig(int world_size, int argc, char** argv) {
  prism::Config config;
  if (world_size < 2 || prism::bench::FindPrismSetting(argc, argv, "head_cpus")) return config;
  config.system_config.emplace("head_cpus", "0");
  return config;
}

// Rank 0's part after prism::Init; returns the process exit code.
int Drive(const prism::bench::BenchOptions& options, const prism::bench::MpiBaselines& mpi,
          const prism::bench::ObjectSizePlan& object_sizes, int world_size) {
  namespace bench = prism::bench;
  bench::ResultSet results;
  int code = 0;
  const bool cross_rank = world_size > 1;
  if (!cross_rank) results.AddNote("one rank: MPI baselines and cross-rank measures skipped");
  try {
    bench::AddMpiRecords(mpi, options, results);
    bench::RunTaskBenchmarks(options, mpi, cross_rank, results);
    bench::RunActorBenchmarks(options, mpi, cross_rank, results);
    bench::RunObjectBenchmarks(options, mpi, cross_rank, results);
    bench::RunCollectiveBenchmarks(options, world_size, results);
    bench::RunBandwidthBenchmarks(options, mpi, object_sizes, cross_rank, results);
    bench::RunSpillBenchmarks(options, results);
    // The CPUs of the ranks that run tasks (rank 0 has none unless head_cpus says so).
    bench::RunTaskBenchBenchmarks(options, prism::ClusterResources()["CPU"], results);
    bench::RunPlacementGroupBenchmarks(options, results);
    bench::RunSchedulingBenchmarks(options, results);
  } catch (const std::exception& e) {
    std::cerr << "prism-bench: measure failed: " << e.what() << "\n";
    code = 1;
  }
  prism::Shutdown();
  std::cout << "prism-bench: " << world_size << " ranks, " << (options.quick() ? "quick" : "full")
            << " run, medians over repetitions\n\n";
  bench::PrintTable(std::cout, results);
  if (!options.json_path().empty()) {
    std::string error;
    if (!bench::WriteJsonFile(options.json_path(), results.records(), &error)) {
      std::cerr << "prism-bench: " << error << "\n";
      code = 1;
    } else {
      std::cout << "\nwrote " << results.records().size() << " records to " << options.json_path()
                << "\n";
    }
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0;
  int world_size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);

  CommandLine line;
  try {
    line = ParseCommandLine(argc, argv);
  } catch (const std::exception& e) {
    if (rank == 0) std::cerr << "prism-bench: " << e.what() << " (see --help)\n";
    MPI_Finalize();
    return kUsageError;
  }
  if (line.help || line.list) {
    if (rank == 0 && line.help) std::cout << line.usage;
    if (rank == 0 && line.list) {
      for (const std::string& name : prism::bench::AllMeasureNames()) std::cout << name << "\n";
      for (const std::string& name : prism::bench::CollectiveMeasureNames()) {
        std::cout << name << "\n";
      }
      for (const std::string& name : prism::bench::BandwidthMeasureNames()) {
        std::cout << name << "\n";
      }
      for (const std::string& name : prism::bench::SpillMeasureNames()) std::cout << name << "\n";
    }
    MPI_Finalize();
    return 0;
  }
  std::optional<prism::bench::BenchOptions> options;
  try {
    options.emplace(line.json_path, line.filter, line.quick);
  } catch (const std::regex_error& e) {
    if (rank == 0) std::cerr << "prism-bench: bad --filter: " << e.what() << "\n";
    MPI_Finalize();
    return kUsageError;
  }
  if (provided < MPI_THREAD_MULTIPLE) {
    if (rank == 0) std::cerr << "prism-bench: MPI does not provide MPI_THREAD_MULTIPLE\n";
    MPI_Finalize();
    return 1;
  }

  // MPI baselines first, collectively, while no Prism thread competes for the cores.
  prism::bench::MpiPlan plan;
  plan.latency = options->Selected("mpi_pingpong_latency_8B") ||
                 options->Selected("task_sync_roundtrip") ||
                 options->Selected("1_1_actor_calls_sync");
  for (size_t bytes : prism::bench::kBandwidthSizes) {
    std::string label = prism::bench::SizeLabel(bytes);
    if (options->Selected("mpi_bandwidth_" + label) ||
        options->Selected("transfer_bandwidth_" + label)) {
      plan.bandwidth_sizes.push_back(bytes);
    }
  }
  // The object sizes (1 GiB only if every rank has the memory) and their MPI baselines.
  prism::bench::ObjectSizePlan object_sizes = prism::bench::PlanObjectSizes(*options);
  for (size_t bytes : object_sizes.mpi_sizes) plan.bandwidth_sizes.push_back(bytes);
  prism::bench::MpiBaselines mpi = prism::bench::MeasureMpiBaselines(*options, plan);
  prism::bench::MeasureMpiCollectives(*options);  // MPI_Allreduce/Bcast/Allgather baselines

  // Ranks >= 1 serve inside prism::Init and exit there (Prism finalises MPI for them); rank 0,
  // which initialised MPI, finalises it below.
  try {
    prism::Init(MakePrismConfig(world_size, argc, argv), argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "prism-bench: rank " << rank << ": " << e.what() << "\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  int code = Drive(*options, mpi, object_sizes, world_size);
  MPI_Finalize();
  return code;
}
