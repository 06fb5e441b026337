// PG-20: a rank holding a bundle of a created placement group is SIGKILLed; the controller places
// that bundle again on a live rank with the group's strategy (the group is kRescheduling
// meanwhile) and the group is kCreated again.
//
// Run by pg_rank_failure_test.sh under `mpirun --enable-recovery` (the survivors keep running).
// Every rank has 2 CPUs. The driver creates a STRICT_SPREAD group of (ranks - 1) {CPU: 1}
// bundles, kills a rank other than 0 that holds one, and checks within 10 s that the lost bundle
// is on the one live rank that held none, the others did not move, and work runs in it again;
// it prints PG-RESCHEDULE-TEST-PASSED or -FAILED.

#include <prism/prism.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace {

int Die() {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  raise(SIGKILL);
  return 0;
}

int WhereAmI() { return prism::GetRuntimeContext().GetRank(); }

// The live rank holding each bundle (from the ranks' resources), -1 where none does.
std::vector<int> BundleRanks(const prism::PlacementGroup& pg) {
  std::vector<int> ranks(pg.GetBundles().size(), -1);
  for (const auto& node : prism::Nodes()) {
    if (!node.alive) continue;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (node.resources.count("CPU_group_" + std::to_string(i) + "_" + pg.GetID()) != 0) {
        ranks[i] = node.rank;
      }
    }
  }
  return ranks;
}

bool Check(bool ok, const std::string& what) {
  if (!ok) std::cout << "check failed: " << what << std::endl;
  return ok;
}

}  // namespace

PRISM_REMOTE(Die, WhereAmI);

int main(int argc, char** argv) {
  prism::Config config;
  config.system_config["resources"] = "CPU=2";
  prism::Init(config, argc, argv);  // ranks >= 1 never return
  const int n = prism::GetRuntimeContext().GetWorldSize();
  bool ok = Check(n >= 3, "needs 3 ranks or more");
  using Clock = std::chrono::steady_clock;
  try {
    prism::PlacementGroup pg = prism::CreatePlacementGroup(prism::PlacementGroupCreationOptions{
        false, "survivor", std::vector<prism::Bundle>(n - 1, {{"CPU", 1.0}}),
        prism::PlacementStrategy::kStrictSpread});
    ok &= Check(pg.Wait(30), "the group was not created");
    std::vector<int> before;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    do {
      before = BundleRanks(pg);
    } while (std::count(before.begin(), before.end(), -1) > 0 && Clock::now() < deadline);
    ok &= Check(std::count(before.begin(), before.end(), -1) == 0, "bundles not seen");
    // The victim: the highest rank holding a bundle; the spare: the rank holding none.
    int victim = *std::max_element(before.begin(), before.end());
    int spare = -1;
    for (int r = 0; r < n; ++r) {
      if (std::find(before.begin(), before.end(), r) == before.end()) spare = r;
    }
    std::cout << "victim " << victim << ", spare " << spare << std::endl;
    ok &= Check(victim > 0 && spare >= 0, "no victim or spare rank");
    auto died = prism::Task(Die)
                    .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(victim))
                    .Remote();
    (void)died;
    // The lost bundle moves to the spare rank; the others stay.
    std::vector<int> after;
    deadline = Clock::now() + std::chrono::seconds(10);
    bool moved = false;
    while (!moved && Clock::now() < deadline) {
      after = BundleRanks(pg);
      moved = pg.GetState() == prism::PlacementGroupState::kCreated &&
              std::count(after.begin(), after.end(), spare) == 1 &&
              std::count(after.begin(), after.end(), victim) == 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ok &= Check(moved, "the lost bundle was not placed again on the spare rank within 10 s");
    for (size_t i = 0; i < before.size(); ++i) {
      if (before[i] != victim)
        ok &= Check(after[i] == before[i], "a bundle that was not lost moved");
    }
    // Work goes into the rescheduled bundle.
    auto lost = std::find(before.begin(), before.end(), victim) - before.begin();
    int where = *prism::Task(WhereAmI)
                     .SetResource("CPU", 1)
                     .SetPlacementGroup(pg, static_cast<int>(lost))
                     .Remote()
                     .Get(30'000);
    ok &= Check(where == spare,
                "a task in the rescheduled bundle ran on rank " + std::to_string(where));
    prism::RemovePlacementGroup(pg.GetID());
  } catch (const std::exception& e) {
    ok = Check(false, std::string("exception: ") + e.what());
  }
  std::cout << (ok ? "PG-RESCHEDULE-TEST-PASSED" : "PG-RESCHEDULE-TEST-FAILED") << std::endl;
  prism::Shutdown();
  return ok ? 0 : 1;
}
