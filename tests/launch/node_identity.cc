// node_identity: each rank of a Prism job says who it is, as the runtime sees it:
//   rank=0 host=hostA node=<32 hex digits> world=2
//   rank=1 host=hostB node=<32 hex digits> world=2
// The driver (rank 0) prints its own line, then one per other rank from a task that ran there.
// Start it with --head-cpus 0 (PRISM_HEAD_CPUS=0) so that no task runs on the driver. Exits 1
// when the tasks did not reach every other rank.

#include <prism/prism.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace {

std::string Identity() {
  prism::RuntimeContext context = prism::GetRuntimeContext();
  return "rank=" + std::to_string(context.GetRank()) + " host=" + context.GetHostname() +
         " node=" + context.GetNodeId() + " world=" + std::to_string(context.GetWorldSize());
}

}  // namespace

PRISM_REMOTE(Identity);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int world = prism::GetRuntimeContext().GetWorldSize();
  std::cout << Identity() << std::endl;
  // Tasks until every other rank has answered (a rank runs one at a time per worker slot, so a
  // few rounds reach all of them).
  std::set<std::string> seen;
  for (int round = 0; round < 20 && static_cast<int>(seen.size()) < world - 1; ++round) {
    std::vector<prism::ObjectRef<std::string>> refs;
    for (int i = 0; i < 4 * world; ++i) refs.push_back(prism::Task(Identity).Remote());
    for (const auto& line : prism::Get(refs)) {
      if (seen.insert(*line).second) std::cout << *line << std::endl;
    }
  }
  prism::Shutdown();
  return static_cast<int>(seen.size()) == world - 1 ? 0 : 1;
}
