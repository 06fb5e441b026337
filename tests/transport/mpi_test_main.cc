#include "mpi_test_main.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "prism/common/wire.h"

namespace prism::test {
namespace {

// Prints only what went wrong, each line tagged with the rank (for ranks other than 0).
class FailurePrinter : public testing::EmptyTestEventListener {
 public:
  explicit FailurePrinter(int rank) : rank_(rank) {}

  void OnTestPartResult(const testing::TestPartResult& result) override {
    if (!result.failed()) return;
    std::printf("[rank %d] %s:%d: Failure\n%s\n", rank_,
                result.file_name() ? result.file_name() : "?", result.line_number(),
                result.message());
    std::fflush(stdout);
  }

  void OnTestEnd(const testing::TestInfo& info) override {
    if (!info.result()->Failed()) return;
    std::printf("[rank %d] [  FAILED  ] %s.%s\n", rank_, info.test_suite_name(), info.name());
    std::fflush(stdout);
  }

 private:
  int rank_;
};

}  // namespace

std::string RankTag(const transport::Bootstrap& bootstrap) {
  return "[rank " + std::to_string(bootstrap.rank()) + "] ";
}

std::unique_ptr<transport::MpiBootstrap> StartMpiTests(int* argc, char*** argv) {
  auto boot = transport::MpiBootstrap::Create(argc, argv);
  if (!boot.ok()) {
    std::fprintf(stderr, "MPI bootstrap failed: %s\n", boot.error().ToString().c_str());
    std::exit(1);
  }
  testing::InitGoogleTest(argc, *argv);
  return std::move(*boot);
}

int RunTestsOnAllRanks(transport::Bootstrap& bootstrap, const std::function<void()>& progress) {
  testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
  if (bootstrap.rank() != 0) {
    delete listeners.Release(listeners.default_result_printer());
    listeners.Append(new FailurePrinter(bootstrap.rank()));
  }
  int local = RUN_ALL_TESTS();

  // Everyone finished (and nobody still reads anyone's memory) before the results are reduced.
  Status barrier = bootstrap.Barrier(progress);
  std::vector<std::byte> mine;
  WireWriter w(mine);
  w.I32(local);
  auto all = bootstrap.AllGather(mine);
  if (!barrier.ok() || !all.ok()) {
    std::printf("%sreducing the test results failed: %s\n", RankTag(bootstrap).c_str(),
                (!barrier.ok() ? barrier.ToString() : all.error().ToString()).c_str());
    return 1;
  }
  std::string failed_ranks;
  for (size_t r = 0; r < all->size(); ++r) {
    WireReader reader((*all)[r]);
    int32_t rc = reader.I32();
    if (!reader.AtEnd() || rc != 0)
      failed_ranks += (failed_ranks.empty() ? "" : ", ") + std::to_string(r);
  }
  if (bootstrap.rank() == 0) {
    if (failed_ranks.empty()) {
      std::printf("[   MPI    ] all %d ranks passed\n", bootstrap.size());
    } else {
      std::printf("[   MPI    ] ranks that failed: %s (of %d)\n", failed_ranks.c_str(),
                  bootstrap.size());
    }
    std::fflush(stdout);
  }
  return failed_ranks.empty() ? 0 : 1;
}

}  // namespace prism::test
