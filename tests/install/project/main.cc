// The application that tests/install builds against an installed Prism: it registers functions,
// runs tasks (nested ones too) and exits 0 only when every result is right.
//
//   ./prism_install_app                                   # a one-rank cluster
//   INSTALL_APP_RANKS=2 mpiexec -n 2 ./prism_install_app

#include <prism/prism.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

int Add(int a, int b) { return a + b; }

std::string Describe(std::string name) {
  return name + " on rank " + std::to_string(prism::GetRuntimeContext().GetRank());
}

// A task that submits tasks.
int SumTo(int n) {
  std::vector<prism::ObjectRef<int>> parts;
  for (int i = 1; i <= n; ++i) parts.push_back(prism::Task(Add).Remote(i, 0));
  int sum = 0;
  for (const auto& v : prism::Get(parts)) sum += *v;
  return sum;
}

PRISM_REMOTE(Add, Describe, SumTo);

namespace {

int Check(bool ok, const std::string& what) {
  std::cout << (ok ? "ok:     " : "FAILED: ") << what << "\n";
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int failures = 0;
  try {
    prism::Init(argc, argv);  // ranks >= 1 serve tasks from here on and never return
    const char* ranks_env = std::getenv("INSTALL_APP_RANKS");
    const int expected_ranks = ranks_env != nullptr ? std::atoi(ranks_env) : 1;
    const int world_size = prism::GetRuntimeContext().GetWorldSize();
    failures += Check(world_size == expected_ranks, "world size " + std::to_string(world_size) +
                                                        " == " + std::to_string(expected_ranks));

    failures += Check(*prism::Task(Add).Remote(40, 2).Get() == 42, "Add(40, 2) == 42");
    prism::ObjectRef<int> seven = prism::Put(7);
    failures +=
        Check(*prism::Task(Add).Remote(seven, seven).Get() == 14, "Add(Put(7), Put(7)) == 14");
    failures += Check(*prism::Task(SumTo).Remote(10).Get() == 55, "nested SumTo(10) == 55");
    const std::string described = *prism::Task(Describe).Remote(std::string("task")).Get();
    failures += Check(described.rfind("task on rank ", 0) == 0, "Describe: " + described);

    prism::Shutdown();
  } catch (const std::exception& e) {
    std::cerr << "prism_install_app: " << e.what() << "\n";
    return 1;
  }
  std::cout << (failures == 0 ? "prism_install_app: all checks passed\n"
                              : "prism_install_app: some checks failed\n");
  return failures == 0 ? 0 : 1;
}
