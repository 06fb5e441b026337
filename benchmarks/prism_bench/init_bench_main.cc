// prism-init-bench: how long prism::Init and prism::Shutdown take on rank 0 with many ranks.
//
//   mpirun --oversubscribe -n 64 --bind-to none build/bin/prism-init-bench --json init.json
//
// A program of its own, not a prism-bench mode: one run gives one sample of each (Prism
// starts once per process), and nothing may run before Init that prism-bench runs (MPI
// baselines) or after it (the suite), at rank counts where those would mean nothing.
// MPI is initialised here first (timed: the baseline) so that a barrier can start every rank's
// prism::Init together; ranks >= 1 serve inside Init and exit there.

#include <mpi.h>
#include <prism/prism.h>

#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "json_writer.h"
#include "record.h"
#include "report_table.h"
#include "stopwatch.h"

namespace {

constexpr const char* kUsage =
    "Usage: mpirun -n N prism-init-bench [--json FILE] [--prism-<setting>=<value> ...]\n"
    "Times prism::Init and prism::Shutdown on rank 0 (seconds), against MPI_Init_thread and\n"
    "MPI_Finalize on rank 0.\n";

// One record of `seconds` on `ranks` ranks, against an MPI call's time in the same run.
prism::bench::Record MakeSecondsRecord(const char* name, double seconds, int ranks,
                                       const char* baseline_name, double baseline_seconds) {
  prism::bench::Record r = prism::bench::MakeRecord(name, prism::bench::Summarize({seconds}), "s");
  r.ranks = ranks;
  r.baseline_name = baseline_name;
  r.baseline_value = baseline_seconds;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--json" && i + 1 < argc) {
      json_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (!arg.starts_with("--prism-")) {
      std::cerr << "prism-init-bench: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }
  prism::bench::Stopwatch watch;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  const double mpi_init_s = watch.ElapsedSeconds();
  int rank = 0;
  int ranks = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  MPI_Barrier(MPI_COMM_WORLD);

  watch.Restart();
  try {
    prism::Init(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "prism-init-bench: rank " << rank << ": " << e.what() << "\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  const double init_s = watch.ElapsedSeconds();
  if (prism::GetRuntimeContext().GetWorldSize() != ranks) {
    std::cerr << "prism-init-bench: Prism sees " << prism::GetRuntimeContext().GetWorldSize()
              << " ranks, MPI " << ranks << "\n";
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  watch.Restart();
  prism::Shutdown();
  const double shutdown_s = watch.ElapsedSeconds();

  // Rank 0 initialised MPI, so it finalises it (Prism did for the other ranks): the baseline.
  watch.Restart();
  MPI_Finalize();
  const double mpi_finalize_s = watch.ElapsedSeconds();

  prism::bench::ResultSet results;
  results.Add(MakeSecondsRecord("init_seconds", init_s, ranks, "mpi_init_seconds", mpi_init_s));
  results.Add(MakeSecondsRecord("shutdown_seconds", shutdown_s, ranks, "mpi_finalize_seconds",
                                mpi_finalize_s));
  std::cout << "prism-init-bench: " << ranks << " ranks\n\n";
  prism::bench::PrintTable(std::cout, results);
  int code = 0;
  if (!json_path.empty()) {
    std::string error;
    if (!prism::bench::WriteJsonFile(json_path, results.records(), &error)) {
      std::cerr << "prism-init-bench: " << error << "\n";
      code = 1;
    }
  }
  return code;
}
