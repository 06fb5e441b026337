// A scheduler rank dies with SIGKILL while the driver waits on its tasks.
//
// Run by rank_failure_test.sh under `mpirun --enable-recovery` (so that the survivors keep
// running). The driver checks that every Get that depends on the dead rank raises
// prism::WorkerCrashedError within 10 s, that tasks elsewhere still succeed, and that Prism
// keeps working for new tasks; that actors on the dead rank fail their calls with
// prism::ActorDiedError while the others keep serving; that an actor the dead rank owned dies
// with it unless it was detached; it prints RANK-FAILURE-TEST-PASSED or -FAILED.

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

// 1 MiB tagged with the rank that made it: larger than the inline limit, so it stays there.
std::vector<double> MakeLarge(int) {
  return std::vector<double>(128 * 1024, static_cast<double>(prism::GetRuntimeContext().GetRank()));
}

class Tally {
 public:
  int Add(int n) { return total_ += n; }
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }

 private:
  int total_ = 0;
};

Tally* CreateTally() { return new Tally(); }

using Tallies = std::vector<prism::ActorHandle<Tally>>;

// Creates an actor hosted by another rank than this one (the owner).
prism::ActorHandle<Tally> CreateElsewhere(prism::ActorLifetime lifetime) {
  int self = prism::GetRuntimeContext().GetRank();
  for (;;) {
    auto tally = prism::Actor(CreateTally).SetLifetime(lifetime).Remote();
    if (tally.rank() != self) return tally;
    tally.Kill();
  }
}

// On the victim: {owned, detached} actors living on other ranks; elsewhere: nothing.
Tallies OwnActorsIfOn(int victim) {
  if (prism::GetRuntimeContext().GetRank() != victim) return {};
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let other copies start too
  return {CreateElsewhere(prism::ActorLifetime::kNonDetached),
          CreateElsewhere(prism::ActorLifetime::kDetached)};
}

}  // namespace

PRISM_REMOTE(SleepOrDie, Echo, MakeLarge, CreateTally, &Tally::Add, &Tally::Rank, OwnActorsIfOn);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int size = prism::GetRuntimeContext().GetWorldSize();
  if (size < 3) {
    std::cerr << "rank_failure_test needs at least 3 ranks\n";
    return 2;
  }
  int victim = size - 1;
  bool ok = true;
  using Clock = std::chrono::steady_clock;

  // Large objects made everywhere (some on the victim), ready before the failure.
  std::vector<prism::ObjectRef<std::vector<double>>> large;
  for (int i = 0; i < 8 * size; ++i) large.push_back(prism::Task(MakeLarge).Remote(i));
  prism::Wait(large, static_cast<int>(large.size()), 30'000);

  // Actors on every rank, each called once.
  std::vector<prism::ActorHandle<Tally>> tallies;
  std::vector<int> tally_rank;
  for (int i = 0; i < 4 * size; ++i) tallies.push_back(prism::Actor(CreateTally).Remote());
  for (auto& t : tallies) tally_rank.push_back(*t.Task(&Tally::Rank).Remote().Get(30'000));

  // Actors owned by the victim but hosted elsewhere: one plain, one detached.
  Tallies owned_by_victim;
  for (int attempt = 0; attempt < 20 && owned_by_victim.empty(); ++attempt) {
    std::vector<prism::ObjectRef<Tallies>> tries;
    for (int i = 0; i < 2 * size; ++i) tries.push_back(prism::Task(OwnActorsIfOn).Remote(victim));
    for (const auto& t : prism::Get(tries, 30'000)) {
      if (!t->empty() && owned_by_victim.empty()) owned_by_victim = *t;
    }
  }
  if (owned_by_victim.size() != 2) {
    std::cout << "no task ran on rank " << victim << " to create its actors\n";
    ok = false;
  }

  auto start = Clock::now();
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 6 * size; ++i) refs.push_back(prism::Task(SleepOrDie).Remote(victim, 300));

  int crashed = 0;
  int succeeded = 0;
  double last_crash_s = 0;
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
  std::cout << "crashed " << crashed << ", succeeded " << succeeded
            << "; the last Get on the dead rank raised " << last_crash_s
            << " s after submission; all settled after " << seconds << " s\n";
  if (crashed == 0 || succeeded == 0 || last_crash_s > 10.0) ok = false;

  // Objects whose only copy was on the dead rank are lost; the others are still there.
  int lost = 0;
  int intact = 0;
  for (auto& ref : large) {
    try {
      auto v = ref.Get(10'000);
      if (v->size() != 128 * 1024 || (*v)[0] == victim) ok = false;
      ++intact;
    } catch (const prism::ObjectLostError& e) {
      if (lost++ == 0) std::cout << "first lost object: " << e.what() << "\n";
    } catch (const std::exception& e) {
      std::cout << "unexpected error reading a large object: " << e.what() << "\n";
      ok = false;
    }
  }
  std::cout << "large objects: " << lost << " lost with rank " << victim << ", " << intact
            << " intact\n";
  if (lost == 0 || intact == 0) ok = false;

  // Actors of the dead rank are dead; the others keep their state.
  int dead_actors = 0;
  for (size_t i = 0; i < tallies.size(); ++i) {
    try {
      int total = *tallies[i].Task(&Tally::Add).Remote(2).Get(10'000);
      if (total != 2 || tally_rank[i] == victim) ok = false;
    } catch (const prism::ActorDiedError& e) {
      if (dead_actors++ == 0) std::cout << "first dead actor: " << e.what() << "\n";
      if (tally_rank[i] != victim) ok = false;
    } catch (const std::exception& e) {
      std::cout << "unexpected error calling an actor: " << e.what() << "\n";
      ok = false;
    }
  }
  std::cout << "actors: " << dead_actors << " died with rank " << victim << "\n";
  if (dead_actors == 0) ok = false;

  // The victim's own actors: the plain one died with its owner, the detached one lives on.
  if (owned_by_victim.size() == 2) {
    try {
      owned_by_victim[0].Task(&Tally::Add).Remote(1).Get(10'000);
      std::cout << "an actor outlived its owner rank\n";
      ok = false;
    } catch (const prism::ActorDiedError& e) {
      std::cout << "owned actor: " << e.what() << "\n";
    }
    try {
      int total = *owned_by_victim[1].Task(&Tally::Add).Remote(1).Get(10'000);
      std::cout << "detached actor still serves (total " << total << ")\n";
      if (total != 1) ok = false;
    } catch (const std::exception& e) {
      std::cout << "the detached actor died with its owner: " << e.what() << "\n";
      ok = false;
    }
  }

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
