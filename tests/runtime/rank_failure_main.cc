// A scheduler rank dies with SIGKILL while the driver waits on its tasks.
//
// Run by rank_failure_test.sh under `mpirun --enable-recovery` (so that the survivors keep
// running). The driver checks that every Get that depends on the dead rank raises
// prism::WorkerCrashedError within 10 s, that tasks elsewhere still succeed, and that Prism
// keeps working for new tasks; it prints RANK-FAILURE-TEST-PASSED or -FAILED.

#include <prism/prism.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

namespace {

// Runs everywhere; on the victim rank it kills its whole process (the rank, not a thread).
int SleepOrDie(int victim, int sleep_ms) {
  if (prism::GetRuntimeContext().GetRank() == victim) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    raise(SIGKILL);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
  return prism::GetRuntimeContext().GetRank();
}

int Echo(int x) { return x; }

}  // namespace

PRISM_REMOTE(SleepOrDie, Echo);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int size = prism::GetRuntimeContext().GetWorldSize();
  if (size < 3) {
    std::cerr << "rank_failure_test needs at least 3 ranks\n";
    return 2;
  }
  int victim = size - 1;
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 6 * size; ++i) refs.push_back(prism::Task(SleepOrDie).Remote(victim, 300));

  int crashed = 0;
  int succeeded = 0;
  double last_crash_s = 0;
  bool ok = true;
  for (auto& ref : refs) {
    try {
      int rank = *ref.Get(30'000);
      if (rank == victim) ok = false;
      ++succeeded;
    } catch (const prism::WorkerCrashedError& e) {
      ++crashed;
      last_crash_s = std::chrono::duration<double>(Clock::now() - start).count();
      if (crashed == 1) std::cout << "first error: " << e.what() << "\n";
    } catch (const std::exception& e) {
      std::cout << "unexpected error: " << e.what() << "\n";
      ok = false;
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "crashed " << crashed << ", succeeded " << succeeded << "; the last Get on the dead rank raised "
            << last_crash_s << " s after submission; all settled after " << seconds << " s\n";
  if (crashed == 0 || succeeded == 0 || last_crash_s > 10.0) ok = false;

  // The job goes on without the dead rank.
  std::vector<prism::ObjectRef<int>> after;
  for (int i = 0; i < 100; ++i) after.push_back(prism::Task(Echo).Remote(i));
  for (int i = 0; i < 100; ++i) {
    try {
      if (*after[i].Get(10'000) != i) ok = false;
    } catch (const std::exception& e) {
      std::cout << "task after the failure failed: " << e.what() << "\n";
      ok = false;
    }
  }
  std::string session = prism::GetRuntimeContext().GetSessionDir();
  prism::Shutdown();
  std::cout << "session " << session << "\n";
  std::cout << (ok ? "RANK-FAILURE-TEST-PASSED" : "RANK-FAILURE-TEST-FAILED") << std::endl;
  return ok ? 0 : 1;
}
