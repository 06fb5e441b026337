#pragma once
// A rank-aware GoogleTest runner for multi-rank tests (run under mpiexec -n N).
//
// Every rank runs every test. Rank 0 prints the usual gtest output; the other ranks print only
// their failures, tagged with their rank. The results are reduced so that every rank returns
// the same exit code: 0 only when all ranks passed.
//
//   int main(int argc, char** argv) {
//     auto boot = prism::test::StartMpiTests(&argc, &argv);   // exits when MPI cannot start
//     ... create and start the transport ...
//     int rc = prism::test::RunTestsOnAllRanks(**boot, [&] { transport->TryProgress(); });
//     ... stop, finalise ...
//     return rc;
//   }

#include <functional>
#include <memory>
#include <string>

#include "prism/transport/bootstrap.h"
#include "prism/transport/mpi_bootstrap.h"

namespace prism::test {

/// Bootstraps MPI and GoogleTest for a multi-rank test binary; prints why and exits 1 when MPI
/// cannot start.
std::unique_ptr<transport::MpiBootstrap> StartMpiTests(int* argc, char*** argv);

/// Runs RUN_ALL_TESTS on this rank and reduces the outcome over all ranks (collective: waits at
/// a barrier that calls `progress`). Returns 0 when every rank passed, 1 otherwise.
int RunTestsOnAllRanks(transport::Bootstrap& bootstrap, const std::function<void()>& progress);

/// "[rank N] " for messages that several ranks print.
std::string RankTag(const transport::Bootstrap& bootstrap);

}  // namespace prism::test
