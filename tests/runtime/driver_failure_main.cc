// The driver dies with SIGKILL while the scheduler ranks run its tasks. Run by
// driver_failure_test.sh under `mpirun --enable-recovery`: every other rank must leave the job
// on its own (exit code 1), promptly, leaving nothing behind: no process, no spill file, no
// shared-memory segment. Before it dies, every rank has spilled objects: the driver through
// Put into a small store, the others through the results of tasks that run there.

#include <prism/prism.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

// Holds a 1 MiB result in this rank's store (spilled when the store is full) and reports how
// many files the rank's spill directory holds.
int SpillHere(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  auto ctx = prism::GetRuntimeContext();
  std::string dir = ctx.GetSessionDir() + "/spill/rank-" + std::to_string(ctx.GetRank());
  int files = 0;
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) {
    for (auto it = std::filesystem::directory_iterator(dir, ec);
         !ec && it != std::filesystem::directory_iterator(); ++it) {
      ++files;
    }
  }
  return files;
}

std::vector<char> Big(int i) { return std::vector<char>(1 << 20, static_cast<char>(i)); }

}  // namespace

PRISM_REMOTE(SpillHere);
PRISM_REMOTE(Big);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  auto ctx = prism::GetRuntimeContext();
  std::cout << "session " << ctx.GetSessionDir() << std::endl;
  // Objects on every scheduler rank (the results stay in their stores) and on the driver.
  int world = ctx.GetWorldSize();
  auto on = [&](int i) { return prism::NodeAffinitySchedulingStrategy::Rank(i % world); };
  std::vector<prism::ObjectRef<std::vector<char>>> big;
  for (int i = 0; i < 24; ++i)
    big.push_back(prism::Task(Big).SetSchedulingStrategy(on(i)).Remote(i));
  std::vector<prism::ObjectRef<std::vector<char>>> mine;
  for (int i = 0; i < 8; ++i) mine.push_back(prism::Put(std::vector<char>(1 << 20, 'd')));
  prism::Wait(big, static_cast<int>(big.size()), 30'000);
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 16; ++i)
    refs.push_back(prism::Task(SpillHere).SetSchedulingStrategy(on(i)).Remote(500));
  std::cout << "driver dies now at "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()
            << std::endl;
  raise(SIGKILL);
  return 0;
}
