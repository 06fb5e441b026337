// The driver dies with SIGKILL while the scheduler ranks run its tasks. Run by
// driver_failure_test.sh under `mpirun --enable-recovery`: every other rank must leave the job
// on its own (exit code 1), promptly, leaving no process behind.

#include <prism/prism.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

namespace {

int Sleep(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

}  // namespace

PRISM_REMOTE(Sleep);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 16; ++i) refs.push_back(prism::Task(Sleep).Remote(500));
  std::cout << "driver dies now" << std::endl;
  raise(SIGKILL);
  return 0;
}
