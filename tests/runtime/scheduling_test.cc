// Scheduling strategies on 4 and 8 ranks with uneven custom resources (SCHED-01..08, RES-10/22/25).
// ctest sets PRISM_NUM_CPUS=2 and PRISM_RESOURCES="special=1@1;special=2@2-3;fast=4@3" (ranks
// 4-7, at 8 ranks, have no custom resource); rank 0 runs the cases.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <prism/prism.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace scheduling_test {

int WhereAmI() { return prism::GetRuntimeContext().GetRank(); }

std::string MyNodeId() { return prism::GetRuntimeContext().GetNodeId(); }

// Appends a byte to `file`, then waits (without any Prism call, so it lends no CPU) until `total`
// bytes are there: every one of `total` such tasks must run at the same time. Returns the rank,
// or -1 when the others did not come within 30 s.
int Gang(std::string file, int64_t total) {
  int fd = open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0600);
  if (fd < 0) return -2;
  char byte = 1;
  bool wrote = write(fd, &byte, 1) == 1;
  close(fd);
  if (!wrote) return -2;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    struct stat st {};
    if (stat(file.c_str(), &st) == 0 && st.st_size >= total)
      return prism::GetRuntimeContext().GetRank();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return -1;
}

// Holds its CPU until `flag` exists or its folder is gone (at most 60 s), without any Prism call;
// returns the rank.
int Blocker(std::string flag) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::filesystem::path folder = std::filesystem::path(flag).parent_path();
  while (std::chrono::steady_clock::now() < deadline && !std::filesystem::exists(flag) &&
         std::filesystem::exists(folder))
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  return prism::GetRuntimeContext().GetRank();
}

// From this rank (another owner than the driver), fills every CPU of `rank` with blockers.
int FillRank(int rank, std::string flag) {
  for (int i = 0; i < 2; ++i) {
    (void)prism::Task(Blocker)
        .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(rank))
        .Remote(flag);
  }
  return prism::GetRuntimeContext().GetRank();
}

// Submits `n` tasks needing `special` from inside a task (an owner that is not the driver).
std::vector<int> NestedSpecial(int n) {
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i)
    refs.push_back(prism::Task(WhereAmI).SetResource("special", 1).Remote());
  std::vector<int> out;
  for (const auto& r : prism::Get(refs)) out.push_back(*r);
  return out;
}

// The rank a child task runs on. opt_out 0: no option; 1: an empty placement group; 2: the
// DEFAULT strategy chosen explicitly (both leave a captured parent's group).
int ChildRank(int opt_out) {
  auto caller = prism::Task(WhereAmI);
  if (opt_out == 1) caller.SetPlacementGroup(prism::PlacementGroup{});
  if (opt_out == 2) caller.SetSchedulingStrategy(prism::DefaultSchedulingStrategy{});
  return *caller.Remote().Get(30'000);
}

class Probe {
 public:
  int Where() { return prism::GetRuntimeContext().GetRank(); }
};
Probe* MakeProbe() { return new Probe(); }

}  // namespace scheduling_test

PRISM_REMOTE(scheduling_test::Blocker, scheduling_test::FillRank);
PRISM_REMOTE(scheduling_test::WhereAmI, scheduling_test::MyNodeId, scheduling_test::Gang,
             scheduling_test::NestedSpecial, scheduling_test::ChildRank, scheduling_test::MakeProbe,
             &scheduling_test::Probe::Where);

namespace scheduling_test {
namespace {

int Ranks() { return prism::GetRuntimeContext().GetWorldSize(); }

// The ranks configured with `special` (ctest's PRISM_RESOURCES).
bool HasSpecial(int rank) { return rank >= 1 && rank <= 3; }

TEST(SchedulingTest, NodesListEveryRankWithItsIdHostAndResources) {
  std::vector<prism::NodeInfo> nodes = prism::Nodes();
  ASSERT_EQ(static_cast<int>(nodes.size()), Ranks());
  std::set<std::string> ids;
  for (int r = 0; r < Ranks(); ++r) {
    EXPECT_EQ(nodes[r].rank, r);
    EXPECT_TRUE(nodes[r].alive);
    EXPECT_EQ(nodes[r].hostname, prism::GetRuntimeContext().GetHostname());
    EXPECT_EQ(nodes[r].resources.at("CPU"), 2);
    EXPECT_EQ(nodes[r].resources.count("special"), HasSpecial(r) ? 1u : 0u);
    ids.insert(nodes[r].node_id);
    // The id is what GetNodeId says on that rank.
    std::string there = *prism::Task(MyNodeId)
                             .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(r))
                             .Remote()
                             .Get(30'000);
    EXPECT_EQ(there, nodes[r].node_id);
  }
  EXPECT_EQ(static_cast<int>(ids.size()), Ranks());
}

TEST(SchedulingTest, CustomResourcesDecideWhereTasksAndActorsRun) {
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 20; ++i)
    refs.push_back(prism::Task(WhereAmI).SetResource("special", 1).Remote());
  for (const auto& r : prism::Get(refs)) EXPECT_TRUE(HasSpecial(*r)) << *r;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(*prism::Task(WhereAmI).SetResource("fast", 0.5).Remote().Get(30'000), 3);
    int big = *prism::Task(WhereAmI).SetResource("special", 2).Remote().Get(30'000);
    EXPECT_TRUE(big == 2 || big == 3) << big;
  }
  auto probe = prism::Actor(MakeProbe).SetResource("CPU", 0).SetResource("special", 2).Remote();
  int at = *probe.Task(&Probe::Where).Remote().Get(30'000);
  EXPECT_TRUE(at == 2 || at == 3) << at;
  // An owner other than the driver schedules the same way.
  std::vector<int> nested = *prism::Task(NestedSpecial).Remote(12).Get(60'000);
  ASSERT_EQ(nested.size(), 12u);
  for (int r : nested) EXPECT_TRUE(HasSpecial(r)) << r;
}

TEST(SchedulingTest, InfeasibleWorkFailsNamingTheMissingResource) {
  try {
    (void)prism::Task(WhereAmI).SetResource("special", 3).Remote().Get(30'000);
    FAIL() << "special=3 fits no rank";
  } catch (const prism::TaskUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("'special'"), std::string::npos) << e.what();
  }
  try {
    (void)prism::Task(WhereAmI).SetResource("nonexistent", 1).Remote().Get(30'000);
    FAIL() << "no rank has 'nonexistent'";
  } catch (const prism::TaskUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("'nonexistent'"), std::string::npos) << e.what();
  }
  // Memory in bytes (RES-22): more than any rank has.
  EXPECT_THROW((void)prism::Task(WhereAmI).SetMemory(int64_t{1} << 45).Remote().Get(30'000),
               prism::TaskUnschedulableError);
  // Every resource exists, but no single rank has all of them.
  EXPECT_THROW((void)prism::Task(WhereAmI)
                   .SetResource("special", 1)
                   .SetResource("CPU", 2)
                   .SetResource("fast", 1)
                   .SetResource("GPU", 1)
                   .Remote()
                   .Get(30'000),
               prism::TaskUnschedulableError);
  EXPECT_THROW((void)prism::Actor(MakeProbe).SetResource("fast", 5).Remote(),
               prism::ActorUnschedulableError);
  // An amount too large to hold is bad input, named at once.
  EXPECT_THROW((void)prism::Task(WhereAmI).SetMemory(int64_t{1} << 50).Remote(), prism::PrismError);
}

TEST(SchedulingTest, NodeAffinityHardRunsThereSoftFallsBack) {
  for (int r = 0; r < Ranks(); ++r) {
    auto there = prism::Task(WhereAmI)
                     .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(r))
                     .Remote();
    EXPECT_EQ(*there.Get(30'000), r);
  }
  // By node id, and by host (any rank of it).
  std::string id = prism::Nodes()[1].node_id;
  EXPECT_EQ(*prism::Task(WhereAmI)
                 .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy{id, false})
                 .Remote()
                 .Get(30'000),
            1);
  int on_host = *prism::Task(WhereAmI)
                     .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Host(
                         prism::GetRuntimeContext().GetHostname()))
                     .Remote()
                     .Get(30'000);
  EXPECT_GE(on_host, 0);
  // Rank 0 has no 'special': hard fails, soft goes to a rank that has it.
  auto hard = prism::Task(WhereAmI)
                  .SetResource("special", 1)
                  .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(0))
                  .Remote();
  EXPECT_THROW((void)hard.Get(30'000), prism::TaskUnschedulableError);
  int soft = *prism::Task(WhereAmI)
                  .SetResource("special", 1)
                  .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(0, true))
                  .Remote()
                  .Get(30'000);
  EXPECT_TRUE(HasSpecial(soft)) << soft;
  // A node that does not exist is bad input, named at once.
  try {
    (void)prism::Task(WhereAmI)
        .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(Ranks()))
        .Remote();
    FAIL() << "rank " << Ranks() << " does not exist";
  } catch (const prism::PrismError& e) {
    EXPECT_NE(std::string(e.what()).find("names no node"), std::string::npos) << e.what();
  }
  // Actors too.
  auto probe = prism::Actor(MakeProbe)
                   .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(Ranks() - 1))
                   .Remote();
  EXPECT_EQ(*probe.Task(&Probe::Where).Remote().Get(30'000), Ranks() - 1);
  EXPECT_THROW((void)prism::Actor(MakeProbe)
                   .SetResource("special", 1)
                   .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(0))
                   .Remote(),
               prism::ActorUnschedulableError);
}

TEST(SchedulingTest, SpreadUsesEveryRank) {
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 4 * Ranks(); ++i) {
    refs.push_back(
        prism::Task(WhereAmI).SetSchedulingStrategy(prism::SpreadSchedulingStrategy{}).Remote());
  }
  std::map<int, int> count;
  for (const auto& r : prism::Get(refs)) ++count[*r];
  EXPECT_EQ(static_cast<int>(count.size()), Ranks());
  // Actors: one per rank.
  std::set<int> actor_ranks;
  std::vector<prism::ActorHandle<Probe>> probes;
  for (int i = 0; i < Ranks(); ++i) {
    probes.push_back(
        prism::Actor(MakeProbe).SetSchedulingStrategy(prism::SpreadSchedulingStrategy{}).Remote());
  }
  for (auto& p : probes) actor_ranks.insert(*p.Task(&Probe::Where).Remote().Get(30'000));
  EXPECT_EQ(static_cast<int>(actor_ranks.size()), Ranks());
}

TEST(SchedulingTest, DefaultPacksOntoTheDriversRankWhileItIsIdle) {
  // One task at a time never passes rank 0's spread threshold (1 of 2 CPUs = 0.5 is at it, so
  // each one finishes before the next comes).
  int local = 0;
  for (int i = 0; i < 10; ++i) local += *prism::Task(WhereAmI).Remote().Get(30'000) == 0;
  EXPECT_GE(local, 8);
}

TEST(SchedulingTest, AGangAsLargeAsTheClusterRunsAtOnce) {
  // As many 1-CPU tasks as the job has CPUs: each waits for all the others, so none may be left
  // queued on a busy rank while another has room (DEFAULT placement, then spillback).
  std::string dir =
      std::string(std::getenv("PRISM_SESSION_ROOT") ? std::getenv("PRISM_SESSION_ROOT") : "/tmp") +
      "/gang-" + prism::GetRuntimeContext().GetJobId();
  std::filesystem::create_directories(dir);
  for (int round = 0; round < 3; ++round) {
    std::string file = dir + "/round-" + std::to_string(round);
    int64_t total = static_cast<int64_t>(prism::ClusterResources().at("CPU"));
    std::vector<prism::ObjectRef<int>> refs;
    for (int64_t i = 0; i < total; ++i) refs.push_back(prism::Task(Gang).Remote(file, total));
    std::map<int, int> per_rank;
    for (const auto& r : prism::Get(refs, 90'000)) {
      EXPECT_GE(*r, 0) << "a task of the gang did not see all the others start";
      ++per_rank[*r];
    }
    for (const auto& [rank, n] : per_rank) EXPECT_LE(n, 2) << "rank " << rank << " ran " << n;
  }
  std::filesystem::remove_all(dir);
}

TEST(SchedulingTest, CapturedChildTasksRunInTheParentsPlacementGroup) {
  // One bundle takes all of a rank's CPUs: a child that needs node CPU cannot run there, one
  // captured into the group can (PG-16).
  prism::PlacementGroup pg = prism::CreatePlacementGroup(prism::PlacementGroupCreationOptions{
      false, "", {{{"CPU", 2}}}, prism::PlacementStrategy::kPack});
  ASSERT_TRUE(pg.Wait(30));
  int bundle_rank =
      *prism::Task(WhereAmI).SetResource("CPU", 1).SetPlacementGroup(pg, 0).Remote().Get(30'000);
  auto in_group = [&](bool capture, int opt_out) {
    return *prism::Task(ChildRank)
                .SetResource("CPU", 1)
                .SetPlacementGroup(pg, 0, capture)
                .Remote(opt_out)
                .Get(30'000);
  };
  EXPECT_EQ(in_group(/*capture=*/true, /*opt_out=*/0), bundle_rank);
  EXPECT_NE(in_group(/*capture=*/false, /*opt_out=*/0), bundle_rank);
  EXPECT_NE(in_group(/*capture=*/true, /*opt_out=*/1), bundle_rank);
  EXPECT_NE(in_group(/*capture=*/true, /*opt_out=*/2), bundle_rank);
  prism::RemovePlacementGroup(pg.GetID());
}

TEST(SchedulingTest, TasksQueuedOnARankAnotherOwnerFilledMoveToRanksWithRoom) {
  // Rank 1's CPUs are taken by another owner's blockers, which the driver learns of only from
  // rank 1's reports. A gang of as many tasks as the other CPUs must then run at once: any of
  // them sent to rank 1 before its report arrived has to be sent back (spillback), since the
  // blockers outlast the gang's patience.
  std::string dir =
      std::string(std::getenv("PRISM_SESSION_ROOT") ? std::getenv("PRISM_SESSION_ROOT") : "/tmp") +
      "/spill-" + prism::GetRuntimeContext().GetJobId();
  std::filesystem::create_directories(dir);
  for (int round = 0; round < 3; ++round) {
    std::string flag = dir + "/release-" + std::to_string(round);
    int owner = Ranks() - 1;
    ASSERT_EQ(*prism::Task(FillRank)
                   .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(owner))
                   .Remote(1, flag)
                   .Get(30'000),
              owner);
    int64_t total = static_cast<int64_t>(prism::ClusterResources().at("CPU")) - 2;
    std::string file = dir + "/gang-" + std::to_string(round);
    std::vector<prism::ObjectRef<int>> refs;
    for (int64_t i = 0; i < total; ++i) refs.push_back(prism::Task(Gang).Remote(file, total));
    for (const auto& r : prism::Get(refs, 90'000)) {
      EXPECT_GE(*r, 0) << "a task of the gang stayed queued behind the blockers";
      EXPECT_NE(*r, 1);
    }
    std::ofstream(flag).put('1');
  }
  std::filesystem::remove_all(dir);  // releases any blocker still waiting
}

TEST(SchedulingTest, EverythingIsAvailableAgainAfterTheWork) {
  auto total = prism::ClusterResources();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::unordered_map<std::string, double> available;
  do {
    available = prism::AvailableResources();
    if (available == total) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  for (const auto& [name, amount] : total) EXPECT_EQ(available[name], amount) << name;
}

}  // namespace
}  // namespace scheduling_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  prism::Init(argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
