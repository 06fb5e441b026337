// A group member's rank dies (SIGKILL) while the group runs collectives in a loop (AllReduce, or
// with the argument "stream" large Broadcasts and AllGathers).
//
// Run by collective_failure_test.sh under `mpirun --enable-recovery`. Checks: every survivor's
// pending operation raises CollectiveError naming the dead rank within 10 s (never a hang); the
// group can then be destroyed and re-created from the survivors, and works. Prints
// COLLECTIVE-FAILURE-TEST-PASSED or -FAILED.

#include <prism/collective/collective.h>
#include <prism/prism.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace coll = prism::collective;

namespace {

using Clock = std::chrono::steady_clock;

class Trainer {
 public:
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }
  std::string Join(int world, int index, std::string group) {
    try {
      coll::InitGroup(world, index, coll::Backend::kUcx, group);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  // Collectives in a loop until one raises; returns "raised after <ms> ms (iteration <i>):
  // <message>" or what went wrong. The member living on `victim` dies at iteration 31 or 32.
  // - mode "allreduce": AllReduces of 4 KB, 400 KB and 8 MB in turn (on one host: the
  //   shared-memory inboxes, the outboxes, and the RMA algorithm, whose members read each other's
  //   buffers); the victim dies entering iteration 32, an 8 MB one.
  // - mode "stream": 16 MiB Broadcasts (the root moving round) and AllGathers in turn (on one
  //   host: streamed through the members' shared-memory outboxes); the victim dies 2 ms into
  //   iteration 31's call, from another thread, so most likely while the data streams.
  std::string Loop(std::string group, int victim, std::string mode) {
    const bool stream = mode == "stream";
    const int w = coll::GetWorldSize(group);
    constexpr size_t kAllReduceCounts[] = {1'000, 100'000, 2'000'000};
    for (int i = 0; i < 100'000; ++i) {
      size_t count = stream ? (size_t{4} << 20) : kAllReduceCounts[i % 3];
      std::vector<float> v(count, static_cast<float>(coll::GetRank(group) + 1));
      std::vector<float> all(stream && i % 2 == 1 ? count * static_cast<size_t>(w) : 0);
      if (i == (stream ? 31 : 32) && Rank() == victim) {
        if (!stream) raise(SIGKILL);
        std::thread([] {
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          raise(SIGKILL);
        }).detach();
      }
      auto start = Clock::now();
      float want = 0;
      try {
        if (!stream) {
          coll::AllReduce(v, coll::ReduceOp::kSum, group);
          want = static_cast<float>(w * (w + 1) / 2);
        } else if (i % 2 == 0) {
          coll::Broadcast(v, i % w, group);
          want = static_cast<float>(i % w + 1);
        } else {
          coll::AllGather(std::span<const float>(v), std::span<float>(all), group);
          v.assign(1, all.back());
          want = static_cast<float>(w);
        }
      } catch (const coll::CollectiveError& e) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        return "raised after " + std::to_string(ms.count()) + " ms (iteration " +
               std::to_string(i) + "): " + e.what();
      }
      if (v.back() != want) return "wrong result at iteration " + std::to_string(i);
    }
    return "never raised";
  }
  std::string Destroy(std::string group) {
    coll::DestroyGroup(group);
    return "";
  }
  float Sum(std::string group) {
    std::vector<float> v(70'000, 2.0F);
    coll::AllReduce(v, coll::ReduceOp::kSum, group);
    // And a large Broadcast (on one host: through the new incarnation's outboxes).
    std::vector<float> b(size_t{1} << 20, coll::GetRank(group) == 0 ? 5.0F : 0.0F);
    coll::Broadcast(b, 0, group);
    if (b.front() != 5.0F || b.back() != 5.0F) return -1.0F;
    return v.back();
  }
};

Trainer* CreateTrainer() { return new Trainer(); }

}  // namespace

PRISM_REMOTE(CreateTrainer, &Trainer::Rank, &Trainer::Join, &Trainer::Loop, &Trainer::Destroy,
             &Trainer::Sum);

int main(int argc, char** argv) {
  // The first argument: "allreduce" (the default) or "stream" (see Trainer::Loop).
  std::string mode = argc > 1 ? argv[1] : "allreduce";
  if (mode != "allreduce" && mode != "stream") {
    std::cerr << "collective_failure_test: unknown mode '" << mode << "' (allreduce or stream)\n";
    return 2;
  }
  prism::Init(argc, argv);
  int size = prism::GetRuntimeContext().GetWorldSize();
  if (size < 3) {
    std::cerr << "collective_failure_test needs at least 3 ranks\n";
    return 2;
  }
  const int victim = size - 1;
  bool ok = true;
  // One member on each rank 1..size-1 (the victim's among them), plus one on rank 0's side.
  std::vector<prism::ActorHandle<Trainer>> members;
  std::vector<bool> covered(static_cast<size_t>(size), false);
  for (int attempt = 0; attempt < 200 && members.size() < static_cast<size_t>(size); ++attempt) {
    auto t = prism::Actor(CreateTrainer).Remote();
    int r = t.rank();
    if (!covered[static_cast<size_t>(r)]) {
      covered[static_cast<size_t>(r)] = true;
      members.push_back(t);
    } else {
      t.Kill();
    }
  }
  if (!covered[static_cast<size_t>(victim)]) {
    std::cout << "no member could be placed on rank " << victim << "\n";
    std::cout << "COLLECTIVE-FAILURE-TEST-FAILED\n";
    prism::Shutdown();
    return 1;
  }
  int w = static_cast<int>(members.size());
  std::vector<prism::ObjectRef<std::string>> joins;
  for (int i = 0; i < w; ++i)
    joins.push_back(
        members[static_cast<size_t>(i)].Task(&Trainer::Join).Remote(w, i, std::string("train")));
  for (auto& j : prism::Get(joins, 60'000)) {
    if (!j->empty()) {
      std::cout << "join failed: " << *j << "\n";
      ok = false;
    }
  }
  std::vector<prism::ObjectRef<std::string>> loops;
  std::vector<prism::ActorHandle<Trainer>> survivors;
  std::vector<prism::ObjectRef<std::string>> survivor_loops;
  for (auto& m : members) {
    auto ref = m.Task(&Trainer::Loop).Remote(std::string("train"), victim, mode);
    if (m.rank() != victim) {
      survivors.push_back(m);
      survivor_loops.push_back(ref);
    }
  }
  for (auto& ref : survivor_loops) {
    try {
      std::string r = *ref.Get(60'000);
      std::cout << "survivor: " << r << "\n";
      if (r.rfind("raised after ", 0) != 0) {
        ok = false;
      } else {
        long ms = std::stol(r.substr(13));
        if (ms > 10'000) ok = false;
        if (r.find("rank " + std::to_string(victim)) == std::string::npos) ok = false;
      }
    } catch (const std::exception& e) {
      std::cout << "survivor call failed: " << e.what() << "\n";
      ok = false;
    }
  }
  // Destroy and re-create from the survivors.
  std::vector<prism::ObjectRef<std::string>> destroys;
  for (auto& s : survivors)
    destroys.push_back(s.Task(&Trainer::Destroy).Remote(std::string("train")));
  prism::Get(destroys, 60'000);
  int ws = static_cast<int>(survivors.size());
  std::vector<prism::ObjectRef<std::string>> rejoins;
  for (int i = 0; i < ws; ++i)
    rejoins.push_back(
        survivors[static_cast<size_t>(i)].Task(&Trainer::Join).Remote(ws, i, std::string("train")));
  for (auto& j : prism::Get(rejoins, 60'000)) {
    if (!j->empty()) {
      std::cout << "re-join failed: " << *j << "\n";
      ok = false;
    }
  }
  std::vector<prism::ObjectRef<float>> sums;
  for (auto& s : survivors) sums.push_back(s.Task(&Trainer::Sum).Remote(std::string("train")));
  for (auto& v : prism::Get(sums, 60'000)) {
    if (*v != 2.0F * static_cast<float>(ws)) {
      std::cout << "re-created group summed " << *v << "\n";
      ok = false;
    }
  }
  std::cout << "session " << prism::GetRuntimeContext().GetSessionDir() << "\n";
  std::cout << (ok ? "COLLECTIVE-FAILURE-TEST-PASSED" : "COLLECTIVE-FAILURE-TEST-FAILED") << "\n";
  prism::Shutdown();
  return ok ? 0 : 1;
}
