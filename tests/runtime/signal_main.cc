// A job that is told to stop by a signal (SIGTERM from scancel or a user, Slurm's --signal
// warning). Run by signal_test.sh, which sends the signal once this prints "ready". Every rank
// has spilled objects by then, so that the test can check that the shutdown removed them.

#include <prism/prism.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

namespace {

int Nap(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

std::vector<char> Block(int i) { return std::vector<char>(1 << 20, static_cast<char>(i)); }

}  // namespace

PRISM_REMOTE(Nap);
PRISM_REMOTE(Block);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  std::cout << "session " << prism::GetRuntimeContext().GetSessionDir() << std::endl;
  std::vector<prism::ObjectRef<std::vector<char>>> blocks;
  // Every rank holds (and spills) some of them.
  int world = prism::GetRuntimeContext().GetWorldSize();
  for (int i = 0; i < 24; ++i) {
    blocks.push_back(
        prism::Task(Block)
            .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(i % world))
            .Remote(i));
  }
  std::vector<prism::ObjectRef<std::vector<char>>> mine;
  for (int i = 0; i < 8; ++i) mine.push_back(prism::Put(std::vector<char>(1 << 20, 'd')));
  prism::Wait(blocks, static_cast<int>(blocks.size()), 30'000);
  std::cout << "ready pid " << getpid() << std::endl;
  // Busy until the signal ends the job (the test fails if this loop ends first).
  for (int round = 0; round < 600; ++round) {
    std::vector<prism::ObjectRef<int>> naps;
    for (int i = 0; i < 8; ++i) naps.push_back(prism::Task(Nap).Remote(50));
    for (auto& nap : naps) nap.Get();
  }
  std::cout << "the signal never came" << std::endl;
  prism::Shutdown();
  return 3;
}
