// A Prism job that stays up until told to stop, holding a 4 MiB object on the driver: what
// `prism memory` is asked about in prism_memory_test.sh.
// usage: memory_job WORK_DIR   (writes WORK_DIR/ready, ends when WORK_DIR/stop exists or 60 s)

#include <prism/prism.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  prism::Init(argc, argv);  // ranks >= 1 serve here
  std::string work = argc > 1 ? argv[1] : ".";
  auto held = prism::Put(std::vector<double>(512 * 1024, 1.0));  // 4 MiB
  std::ofstream(work + "/ready") << prism::GetRuntimeContext().GetSessionDir() << "\n";
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (access((work + "/stop").c_str(), F_OK) != 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  prism::Shutdown();
  return 0;
}
