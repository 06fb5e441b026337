// Placement groups (FEATURES.md PG-01..18; issue 5): bundles reserved atomically across ranks
// (a rank is a node) with PACK / SPREAD / STRICT_PACK / STRICT_SPREAD, names, removal, and
// tasks and actors scheduled into bundles. Rank 0 runs the cases, the other ranks serve.
//
// Every rank has 2 CPUs and rank k has k units of the custom resource "pgres" (rank 0: none),
// set through the `resources` setting, so bundles of pgres only fit some ranks. Where a bundle
// lives is read from prism::Nodes(): committing bundle i of group G on a rank adds
// "CPU_group_<i>_<G>" to that rank's total.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bundle_placement.h"  // runtime/src: PlanBundles, WhyInfeasible
#include "pg_messages.h"       // runtime/src: the codecs

namespace pg_test {

// True when the job runs with scheduler_infeasible=wait (the np4_wait test).
bool g_wait_mode = false;

int WhereAmI() { return prism::GetRuntimeContext().GetRank(); }

int SleepThenRank(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return prism::GetRuntimeContext().GetRank();
}

// Creates a STRICT_SPREAD group of `bundles` {pgres: amount} bundles, waits for it and removes
// it, `rounds` times; returns how many were created.
int CreateWaitRemove(int rounds, int bundles, double amount) {
  int created = 0;
  for (int i = 0; i < rounds; ++i) {
    auto pg = prism::CreatePlacementGroup(prism::PlacementGroupCreationOptions{
        false, "", std::vector<prism::Bundle>(bundles, {{"pgres", amount}}),
        prism::PlacementStrategy::kStrictSpread});
    created += pg.Wait(60) ? 1 : 0;
    prism::RemovePlacementGroup(pg.GetID());
  }
  return created;
}

// Creates a named group from inside a task (a request from another rank); returns its id.
std::string CreateFromTask(std::string name) {
  auto pg = prism::CreatePlacementGroup(prism::PlacementGroupCreationOptions{
      false, name, {{{"CPU", 1.0}}}, prism::PlacementStrategy::kPack});
  return pg.Wait(30) ? pg.GetID() : std::string();
}

class Member {
 public:
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }
};
Member* NewMember() { return new Member(); }

}  // namespace pg_test

PRISM_REMOTE(pg_test::WhereAmI, pg_test::SleepThenRank, pg_test::CreateWaitRemove,
             pg_test::CreateFromTask, pg_test::NewMember, &pg_test::Member::Rank);

namespace pg_test {
namespace {

using Clock = std::chrono::steady_clock;
using prism::Bundle;
using prism::PlacementGroup;
using prism::PlacementGroupState;
using prism::PlacementStrategy;

int WorldSize() { return prism::GetRuntimeContext().GetWorldSize(); }

PlacementGroup Create(std::vector<Bundle> bundles, PlacementStrategy strategy,
                      const std::string& name = "", bool global = false) {
  return prism::CreatePlacementGroup(
      prism::PlacementGroupCreationOptions{global, name, std::move(bundles), strategy});
}

std::vector<Bundle> Repeat(const Bundle& b, int n) { return std::vector<Bundle>(n, b); }

// The rank holding each bundle of `pg` (by its first resource), from Nodes(); -1 for bundles
// not seen within 5 s.
std::vector<int> BundleRanks(const PlacementGroup& pg) {
  const auto& bundles = pg.GetBundles();
  std::vector<int> ranks(bundles.size(), -1);
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    std::vector<prism::NodeInfo> nodes = prism::Nodes();
    bool all = true;
    for (size_t i = 0; i < bundles.size(); ++i) {
      std::string name =
          bundles[i].begin()->first + "_group_" + std::to_string(i) + "_" + pg.GetID();
      ranks[i] = -1;
      for (const auto& node : nodes) {
        if (node.alive && node.resources.count(name) != 0) ranks[i] = node.rank;
      }
      all &= ranks[i] >= 0;
    }
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ranks;
}

// True once every resource is available again and no group resource is left (within 5 s).
bool AllFreeWithin5s(std::string* last = nullptr) {
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (true) {
    auto total = prism::ClusterResources();
    auto available = prism::AvailableResources();
    std::string diff;
    for (const auto& [name, amount] : total) {
      if (name.find("_group_") != std::string::npos) {
        diff += " " + name + " still exists;";
      } else if (std::abs(available[name] - amount) > 1e-6) {
        diff += " " + name + " " + std::to_string(available[name]) + " of " +
                std::to_string(amount) + ";";
      }
    }
    for (const auto& [name, amount] : available) {
      if (name.find("_group_") != std::string::npos) diff += " " + name + " still available;";
    }
    if (diff.empty()) return true;
    if (Clock::now() > deadline) {
      if (last != nullptr) *last = diff;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

class PlacementGroupTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (const auto& pg : prism::GetAllPlacementGroups()) prism::RemovePlacementGroup(pg.GetID());
    std::string diff;
    EXPECT_TRUE(AllFreeWithin5s(&diff)) << "left reserved:" << diff;
  }
};

TEST_F(PlacementGroupTest, StrictPackPutsEveryBundleOnOneRank) {
  if (WorldSize() < 3) GTEST_SKIP() << "needs a rank with 2 pgres";
  // Two bundles of 1 pgres: only ranks with pgres >= 2 can hold both.
  PlacementGroup pg = Create(Repeat({{"CPU", 1}, {"pgres", 1}}, 2), PlacementStrategy::kStrictPack);
  ASSERT_TRUE(pg.Wait(30));
  EXPECT_EQ(pg.GetState(), PlacementGroupState::kCreated);
  auto ranks = BundleRanks(pg);
  EXPECT_EQ(ranks[0], ranks[1]);
  EXPECT_GE(ranks[0], 2);
}

TEST_F(PlacementGroupTest, StrictSpreadPutsEachBundleOnItsOwnRank) {
  int n = WorldSize();
  PlacementGroup pg = Create(Repeat({{"CPU", 1}}, n), PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(30));
  auto ranks = BundleRanks(pg);
  std::set<int> distinct(ranks.begin(), ranks.end());
  EXPECT_EQ(static_cast<int>(distinct.size()), n);
  EXPECT_EQ(distinct.count(-1), 0u);
}

TEST_F(PlacementGroupTest, StrictSpreadMatchesBundlesToTheRanksTheyFit) {
  int n = WorldSize();
  if (n < 3) GTEST_SKIP() << "needs ranks with 1 and 2 pgres";
  // Bundle 0 fits ranks >= n-2, bundle 1 only rank n-1: bundle 0 must take rank n-2.
  PlacementGroup pg = Create({{{"pgres", static_cast<double>(n - 2)}, {"CPU", 1}},
                              {{"pgres", static_cast<double>(n - 1)}, {"CPU", 1}}},
                             PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(30));
  EXPECT_EQ(BundleRanks(pg), (std::vector<int>{n - 2, n - 1}));
}

TEST_F(PlacementGroupTest, PackKeepsBundlesTogetherAndSpillsWhenItMust) {
  PlacementGroup two = Create(Repeat({{"CPU", 1}}, 2), PlacementStrategy::kPack);
  ASSERT_TRUE(two.Wait(30));
  auto ranks = BundleRanks(two);
  EXPECT_EQ(ranks[0], ranks[1]);
  prism::RemovePlacementGroup(two.GetID());
  ASSERT_TRUE(AllFreeWithin5s());
  if (WorldSize() < 2) return;
  // Three CPUs do not fit one 2-CPU rank: two bundles share a rank, the third goes elsewhere.
  PlacementGroup three = Create(Repeat({{"CPU", 1}}, 3), PlacementStrategy::kPack);
  ASSERT_TRUE(three.Wait(30));
  std::map<int, int> per_rank;
  for (int r : BundleRanks(three)) ++per_rank[r];
  EXPECT_EQ(per_rank.size(), 2u);
  EXPECT_EQ(per_rank.count(-1), 0u);
}

TEST_F(PlacementGroupTest, SpreadUsesDistinctRanksAndSharesWhenItMust) {
  int n = WorldSize();
  PlacementGroup pg = Create(Repeat({{"CPU", 1}}, n + 1), PlacementStrategy::kSpread);
  ASSERT_TRUE(pg.Wait(30));
  auto ranks = BundleRanks(pg);
  std::set<int> distinct(ranks.begin(), ranks.end());
  EXPECT_EQ(static_cast<int>(distinct.size()), n);  // every rank, one of them twice
  EXPECT_EQ(distinct.count(-1), 0u);
}

TEST_F(PlacementGroupTest, StrictSpreadWithMoreBundlesThanRanksFailsAndReservesNothing) {
  if (g_wait_mode) GTEST_SKIP() << "scheduler_infeasible=wait";
  int n = WorldSize();
  try {
    Create(Repeat({{"CPU", 1}}, n + 1), PlacementStrategy::kStrictSpread);
    FAIL() << "created a STRICT_SPREAD group of " << n + 1 << " bundles on " << n << " ranks";
  } catch (const prism::PlacementGroupUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("STRICT_SPREAD"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(prism::GetAllPlacementGroups().empty());
  EXPECT_TRUE(AllFreeWithin5s());
}

TEST_F(PlacementGroupTest, StrictPackTooBigForOneRankFails) {
  if (g_wait_mode) GTEST_SKIP() << "scheduler_infeasible=wait";
  try {
    Create({{{"CPU", 2}}, {{"CPU", 1}}}, PlacementStrategy::kStrictPack);
    FAIL() << "3 CPUs packed on one 2-CPU rank";
  } catch (const prism::PlacementGroupUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("'CPU'"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(prism::GetAllPlacementGroups().empty());
}

TEST_F(PlacementGroupTest, ABundleNoRankCanHoldFailsNamingTheResource) {
  if (g_wait_mode) GTEST_SKIP() << "scheduler_infeasible=wait";
  int n = WorldSize();
  try {
    Create({{{"CPU", 1}}, {{"pgres", static_cast<double>(n)}}}, PlacementStrategy::kPack);
    FAIL() << "a bundle of " << n << " pgres was accepted (the most is " << n - 1 << ")";
  } catch (const prism::PlacementGroupUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("bundle 1"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("'pgres'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Create({{{"no_such_resource", 1}}}, PlacementStrategy::kSpread),
               prism::PlacementGroupUnschedulableError);
}

TEST_F(PlacementGroupTest, BadBundlesAreRefusedNamingTheBundle) {
  EXPECT_THROW(Create({}, PlacementStrategy::kPack), prism::PrismError);
  EXPECT_THROW(Create({{{"CPU", 1}}, {}}, PlacementStrategy::kPack), prism::PrismError);
  try {
    Create({{{"CPU", 1}}, {{"CPU", -1}}}, PlacementStrategy::kPack);
    FAIL() << "a negative amount was accepted";
  } catch (const prism::PlacementGroupUnschedulableError& e) {
    FAIL() << "wrong error: " << e.what();
  } catch (const prism::PrismError& e) {
    EXPECT_NE(std::string(e.what()).find("bundle 1, resource 'CPU'"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(Create({{{"CPU", 1.5}}}, PlacementStrategy::kPack), prism::PrismError);
  EXPECT_THROW(Create({{{"CPU", 0}}}, PlacementStrategy::kPack), prism::PrismError);
  EXPECT_TRUE(prism::GetAllPlacementGroups().empty());
}

TEST_F(PlacementGroupTest, APendingGroupIsCreatedWhenResourcesFree) {
  int n = WorldSize();
  if (n < 2) GTEST_SKIP() << "needs a rank with pgres";
  double all = n - 1;  // only rank n-1 has this much pgres
  PlacementGroup first = Create({{{"pgres", all}}}, PlacementStrategy::kStrictPack);
  ASSERT_TRUE(first.Wait(30));
  PlacementGroup second = Create({{{"pgres", all}}}, PlacementStrategy::kPack);
  EXPECT_FALSE(second.Wait(1));
  EXPECT_EQ(second.GetState(), PlacementGroupState::kPending);
  prism::RemovePlacementGroup(first.GetID());
  EXPECT_TRUE(second.Wait(30));
  EXPECT_EQ(BundleRanks(second), std::vector<int>{n - 1});
}

TEST_F(PlacementGroupTest, RemovingAGroupReturnsItsResources) {
  int n = WorldSize();
  double cpus_before = prism::ClusterResources()["CPU"];
  PlacementGroup pg = Create(Repeat({{"CPU", 1}}, n), PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(30));
  // The bundles' CPUs are taken from the ranks and offered as the group's resources.
  auto deadline = Clock::now() + std::chrono::seconds(5);
  double free_cpus = 0;
  double group_cpus = 0;
  while (Clock::now() < deadline) {
    auto available = prism::AvailableResources();
    free_cpus = available["CPU"];
    group_cpus = available["CPU_group_" + pg.GetID()];
    if (std::abs(free_cpus - (cpus_before - n)) < 1e-6 && std::abs(group_cpus - n) < 1e-6) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_DOUBLE_EQ(free_cpus, cpus_before - n);
  EXPECT_DOUBLE_EQ(group_cpus, n);
  prism::RemovePlacementGroup(pg.GetID());
  EXPECT_EQ(prism::GetPlacementGroup(pg.GetID()).GetState(), PlacementGroupState::kRemoved);
  EXPECT_FALSE(pg.Wait(1));
  std::string diff;
  EXPECT_TRUE(AllFreeWithin5s(&diff)) << diff;
  prism::RemovePlacementGroup(pg.GetID());  // again: ignored
  EXPECT_THROW(prism::RemovePlacementGroup("not-an-id"), prism::PrismError);
}

TEST_F(PlacementGroupTest, NamesAreJobScopedOrGlobal) {
  PlacementGroup local = Create({{{"CPU", 1}}}, PlacementStrategy::kPack, "pg-local");
  PlacementGroup global = Create({{{"CPU", 1}}}, PlacementStrategy::kPack, "pg-global", true);
  EXPECT_EQ(prism::GetPlacementGroup("pg-local").GetID(), local.GetID());
  EXPECT_EQ(prism::GetPlacementGroup("pg-local").GetName(), "pg-local");
  EXPECT_EQ(prism::GetGlobalPlacementGroup("pg-global").GetID(), global.GetID());
  EXPECT_TRUE(prism::GetGlobalPlacementGroup("pg-local").Empty());
  EXPECT_TRUE(prism::GetPlacementGroup("pg-global").Empty());
  EXPECT_TRUE(prism::GetPlacementGroup("no-such-group").Empty());
  EXPECT_EQ(prism::GetPlacementGroup(local.GetID()).GetBundles(), local.GetBundles());
  // A taken name is refused; a removed group's name is free again.
  EXPECT_THROW(Create({{{"CPU", 1}}}, PlacementStrategy::kPack, "pg-local"), prism::PrismError);
  prism::RemovePlacementGroup(local.GetID());
  EXPECT_TRUE(prism::GetPlacementGroup("pg-local").Empty());
  PlacementGroup again = Create({{{"CPU", 1}}}, PlacementStrategy::kPack, "pg-local");
  EXPECT_EQ(prism::GetPlacementGroup("pg-local").GetID(), again.GetID());
  EXPECT_TRUE(again.Wait(30));
}

TEST_F(PlacementGroupTest, GetAllListsTheGroupsNotRemovedInCreationOrder) {
  PlacementGroup a = Create({{{"CPU", 1}}}, PlacementStrategy::kPack, "a");
  PlacementGroup b = Create({{{"CPU", 1}}}, PlacementStrategy::kSpread);
  PlacementGroup c = Create({{{"CPU", 1}}}, PlacementStrategy::kStrictPack, "c");
  prism::RemovePlacementGroup(b.GetID());
  auto all = prism::GetAllPlacementGroups();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].GetID(), a.GetID());
  EXPECT_EQ(all[0].GetName(), "a");
  EXPECT_EQ(all[0].GetStrategy(), PlacementStrategy::kPack);
  EXPECT_EQ(all[1].GetID(), c.GetID());
  EXPECT_EQ(all[1].GetStrategy(), PlacementStrategy::kStrictPack);
  EXPECT_TRUE(PlacementGroup().Empty());
  EXPECT_EQ(PlacementGroup().GetState(), PlacementGroupState::kUnknown);
}

TEST_F(PlacementGroupTest, AnyRankCanCreateGroups) {
  auto id = prism::Task(CreateFromTask)
                .SetSchedulingStrategy(prism::NodeAffinitySchedulingStrategy::Rank(WorldSize() - 1))
                .Remote(std::string("made-in-a-task"))
                .Get(60'000);
  ASSERT_FALSE(id->empty());
  PlacementGroup pg = prism::GetPlacementGroup("made-in-a-task");
  EXPECT_EQ(pg.GetID(), *id);
  EXPECT_EQ(pg.GetState(), PlacementGroupState::kCreated);
}

TEST_F(PlacementGroupTest, ConcurrentCreatorsCompetingForScarceResourcesLeakNothing) {
  int n = WorldSize();
  if (n < 3) GTEST_SKIP() << "needs two ranks with pgres";
  // Two bundles of n-2 pgres fit only ranks n-2 and n-1, so one such group exists at a time:
  // n-1 creators at once keep the others pending, and every group is created in the end.
  const int rounds = 20;
  std::vector<prism::ObjectRef<int>> creators;
  for (int c = 0; c < n - 1; ++c) {
    creators.push_back(
        prism::Task(CreateWaitRemove).SetResource("CPU", 0.01).Remote(rounds, 2, n - 2.0));
  }
  for (auto& created : creators) EXPECT_EQ(*created.Get(120'000), rounds);
  std::string diff;
  EXPECT_TRUE(AllFreeWithin5s(&diff)) << diff;
}

// Tasks and actors into bundles (the owner side of SetPlacementGroup).

TEST_F(PlacementGroupTest, TasksRunOnTheirBundlesRank) {
  int n = WorldSize();
  PlacementGroup pg = Create(Repeat({{"CPU", 1}}, n), PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(30));
  std::vector<int> ranks = BundleRanks(pg);
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) {
    refs.push_back(prism::Task(WhereAmI).SetResource("CPU", 1).SetPlacementGroup(pg, i).Remote());
  }
  for (int i = 0; i < n; ++i) EXPECT_EQ(*refs[i].Get(30'000), ranks[i]) << "bundle " << i;
  // Any bundle (-1): one of the group's ranks.
  int any = *prism::Task(WhereAmI).SetResource("CPU", 1).SetPlacementGroup(pg).Remote().Get(30'000);
  EXPECT_NE(std::find(ranks.begin(), ranks.end(), any), ranks.end());
}

TEST_F(PlacementGroupTest, ActorsLiveOnTheirBundleAndDieWithTheGroup) {
  int n = WorldSize();
  PlacementGroup pg = Create(Repeat({{"CPU", 1}}, n), PlacementStrategy::kStrictSpread);
  ASSERT_TRUE(pg.Wait(30));
  std::vector<int> ranks = BundleRanks(pg);
  int last = n - 1;
  auto member = prism::Actor(NewMember).SetResource("CPU", 1).SetPlacementGroup(pg, last).Remote();
  EXPECT_EQ(*member.Task(&Member::Rank).Remote().Get(30'000), ranks[last]);
  prism::RemovePlacementGroup(pg.GetID());
  bool died = false;
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!died && Clock::now() < deadline) {
    try {
      member.Task(&Member::Rank).Remote().Get(30'000);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } catch (const prism::ActorDiedError& e) {
      died = true;
      EXPECT_NE(dynamic_cast<const prism::ActorPlacementGroupRemovedError*>(&e), nullptr)
          << e.what();
    }
  }
  EXPECT_TRUE(died) << "the actor outlived its placement group";
}

TEST_F(PlacementGroupTest, QueuedTasksFailWhenTheGroupIsRemoved) {
  PlacementGroup pg = Create({{{"CPU", 1}}}, PlacementStrategy::kPack);
  ASSERT_TRUE(pg.Wait(30));
  // The bundle has one CPU: the first task runs, the second waits for it.
  auto running =
      prism::Task(SleepThenRank).SetResource("CPU", 1).SetPlacementGroup(pg, 0).Remote(1500);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto queued = prism::Task(WhereAmI).SetResource("CPU", 1).SetPlacementGroup(pg, 0).Remote();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  prism::RemovePlacementGroup(pg.GetID());
  EXPECT_THROW(queued.Get(30'000), prism::TaskPlacementGroupRemovedError);
  EXPECT_THROW(running.Get(30'000), prism::TaskPlacementGroupRemovedError);
}

// The controller's pure parts and the codecs, on rank 0 (no messages).

using prism::runtime::ResourceSet;
using Avail = std::vector<std::optional<ResourceSet>>;

ResourceSet Res(std::initializer_list<std::pair<const char*, double>> amounts) {
  ResourceSet set;
  for (const auto& [name, amount] : amounts) EXPECT_TRUE(set.Set(name, amount));
  return set;
}

TEST(PlanBundlesTest, StrictSpreadFindsTheMatchingAGreedyChoiceMisses) {
  // Rank 1 fits both bundles, rank 2 only the first: bundle 1 must take rank 1.
  Avail avail = {std::nullopt, Res({{"x", 2}}), Res({{"x", 1}})};
  std::vector<ResourceSet> bundles = {Res({{"x", 1}}), Res({{"x", 2}})};
  auto plan = prism::runtime::PlanBundles(PlacementStrategy::kStrictSpread, bundles,
                                          {prism::kNoRank, prism::kNoRank}, avail);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(*plan, (std::vector<prism::Rank>{2, 1}));
  // Three bundles, two usable ranks: no way.
  bundles.push_back(Res({{"x", 1}}));
  EXPECT_FALSE(prism::runtime::PlanBundles(PlacementStrategy::kStrictSpread, bundles,
                                           std::vector<prism::Rank>(3, prism::kNoRank), avail)
                   .has_value());
}

TEST(PlanBundlesTest, RescheduledBundlesKeepTheStrategy) {
  Avail avail = {Res({{"CPU", 4}}), Res({{"CPU", 4}}), Res({{"CPU", 4}})};
  std::vector<ResourceSet> bundles(3, Res({{"CPU", 1}}));
  // STRICT_SPREAD: bundle 1 lost; ranks 0 and 2 hold the others, so it goes to rank 1.
  auto spread = prism::runtime::PlanBundles(PlacementStrategy::kStrictSpread, bundles,
                                            {0, prism::kNoRank, 2}, avail);
  ASSERT_TRUE(spread.has_value());
  EXPECT_EQ(*spread, (std::vector<prism::Rank>{0, 1, 2}));
  // STRICT_PACK: the others are on rank 2, so the lost one joins them there.
  auto pack = prism::runtime::PlanBundles(PlacementStrategy::kStrictPack, bundles,
                                          {2, prism::kNoRank, 2}, avail);
  ASSERT_TRUE(pack.has_value());
  EXPECT_EQ(*pack, (std::vector<prism::Rank>{2, 2, 2}));
}

TEST(PlanBundlesTest, PackSpillsAndSpreadShares) {
  Avail avail = {Res({{"CPU", 2}}), std::nullopt, Res({{"CPU", 2}})};
  std::vector<ResourceSet> bundles(3, Res({{"CPU", 1}}));
  std::vector<prism::Rank> none(3, prism::kNoRank);
  auto pack = prism::runtime::PlanBundles(PlacementStrategy::kPack, bundles, none, avail);
  ASSERT_TRUE(pack.has_value());
  std::map<prism::Rank, int> count;
  for (prism::Rank r : *pack) ++count[r];
  EXPECT_EQ(count, (std::map<prism::Rank, int>{{0, 2}, {2, 1}}));  // rank 1 is not usable
  auto spread = prism::runtime::PlanBundles(PlacementStrategy::kSpread, bundles, none, avail);
  ASSERT_TRUE(spread.has_value());
  count.clear();
  for (prism::Rank r : *spread) ++count[r];
  EXPECT_EQ(count.size(), 2u);
  EXPECT_EQ(count.count(1), 0u);
  bundles.push_back(Res({{"CPU", 2}}));  // 5 CPUs on 4: nothing
  EXPECT_FALSE(prism::runtime::PlanBundles(PlacementStrategy::kPack, bundles,
                                           std::vector<prism::Rank>(4, prism::kNoRank), avail)
                   .has_value());
}

TEST(WhyInfeasibleTest, NamesWhatIsMissing) {
  Avail totals = {Res({{"CPU", 2}}), Res({{"CPU", 2}, {"GPU", 1}}), std::nullopt};
  auto why = prism::runtime::WhyInfeasible(PlacementStrategy::kPack, {Res({{"GPU", 2}})}, totals);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("'GPU'"), std::string::npos) << *why;
  why = prism::runtime::WhyInfeasible(PlacementStrategy::kStrictPack,
                                      {Res({{"CPU", 2}}), Res({{"CPU", 1}})}, totals);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("STRICT_PACK"), std::string::npos) << *why;
  why = prism::runtime::WhyInfeasible(PlacementStrategy::kStrictSpread,
                                      std::vector<ResourceSet>(3, Res({{"CPU", 1}})), totals);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("2 live ranks"), std::string::npos) << *why;
  why = prism::runtime::WhyInfeasible(PlacementStrategy::kSpread,
                                      std::vector<ResourceSet>(5, Res({{"CPU", 1}})), totals);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("'CPU' in all"), std::string::npos) << *why;
  // Feasible: nothing to say.
  EXPECT_FALSE(prism::runtime::WhyInfeasible(PlacementStrategy::kStrictSpread,
                                             {Res({{"CPU", 2}}), Res({{"GPU", 1}})}, totals)
                   .has_value());
}

// Every strict prefix of `bytes` must be refused by `decode`, and so must a byte too many.
template <typename Decode>
void ExpectTruncationsRefused(const std::vector<std::byte>& bytes, Decode decode) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode(std::span<const std::byte>(bytes.data(), n))) << "prefix of " << n;
  }
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_FALSE(decode(longer));
}

TEST(PgMessagesTest, RoundTripAndRefuseMalformedInput) {
  namespace rt = prism::runtime;
  rt::PgRequest request;
  request.request_id = 7;
  request.op = rt::PgRequest::kCreate;
  request.name_space = "ns";
  request.info.id = prism::PlacementGroupId{3, 9};
  request.info.name = "g";
  request.info.global = true;
  request.info.strategy = PlacementStrategy::kStrictSpread;
  request.info.bundles = {Res({{"CPU", 1}}), Res({{"GPU", 0.5}})};
  request.info.ranks = {1, prism::kNoRank};
  auto bytes = rt::EncodePgRequest(request);
  auto back = rt::DecodePgRequest(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->info.id, request.info.id);
  EXPECT_EQ(back->info.bundles, request.info.bundles);
  EXPECT_EQ(back->info.ranks, request.info.ranks);
  EXPECT_EQ(back->info.strategy, PlacementStrategy::kStrictSpread);
  ExpectTruncationsRefused(bytes, [](auto b) { return rt::DecodePgRequest(b).ok(); });
  // A strategy out of range is refused, not cast.
  auto bad = bytes;
  size_t strategy_at = 8 + 1 + 4 + 2 + 12 + 4 + 1 + 1;
  bad[strategy_at] = std::byte{9};
  EXPECT_FALSE(rt::DecodePgRequest(bad));

  rt::PgReply reply;
  reply.request_id = 7;
  reply.code = rt::PgReply::kUnschedulable;
  reply.message = "no";
  reply.groups = {request.info};
  bytes = rt::EncodePgReply(reply);
  ASSERT_TRUE(rt::DecodePgReply(bytes));
  ExpectTruncationsRefused(bytes, [](auto b) { return rt::DecodePgReply(b).ok(); });

  rt::BundleOp op;
  op.pg = request.info.id;
  op.seq = 4;
  op.attempt = 2;
  op.indexes = {0, 1};
  op.bundles = request.info.bundles;
  op.reason = "why";
  bytes = rt::EncodeBundleOp(op);
  auto op_back = rt::DecodeBundleOp(bytes);
  ASSERT_TRUE(op_back);
  EXPECT_EQ(op_back->indexes, op.indexes);
  EXPECT_EQ(op_back->seq, 4u);
  ExpectTruncationsRefused(bytes, [](auto b) { return rt::DecodeBundleOp(b).ok(); });
  op.indexes = {0};  // two bundles, one index
  EXPECT_FALSE(rt::DecodeBundleOp(rt::EncodeBundleOp(op)));

  rt::BundleAck ack;
  ack.pg = op.pg;
  ack.seq = 4;
  ack.ok = true;
  ack.available = Res({{"CPU", 3}});
  bytes = rt::EncodeBundleAck(ack);
  auto ack_back = rt::DecodeBundleAck(bytes);
  ASSERT_TRUE(ack_back);
  EXPECT_EQ(ack_back->available, ack.available);
  ExpectTruncationsRefused(bytes, [](auto b) { return rt::DecodeBundleAck(b).ok(); });

  bytes = rt::EncodePgUpdate({op.pg, PlacementGroupState::kRescheduling});
  ASSERT_TRUE(rt::DecodePgUpdate(bytes));
  ExpectTruncationsRefused(bytes, [](auto b) { return rt::DecodePgUpdate(b).ok(); });
}

// scheduler_infeasible=wait (run as prism_placement_group_tests_np4_wait).

TEST(PlacementGroupWaitModeTest, AnInfeasibleGroupStaysPendingAndReservesNothing) {
  if (!g_wait_mode) GTEST_SKIP() << "needs --prism-scheduler_infeasible=wait";
  int n = WorldSize();
  PlacementGroup pg = Create(Repeat({{"CPU", 1}}, n + 1), PlacementStrategy::kStrictSpread);
  EXPECT_FALSE(pg.Wait(1));
  EXPECT_EQ(pg.GetState(), PlacementGroupState::kPending);
  EXPECT_TRUE(AllFreeWithin5s());
  prism::RemovePlacementGroup(pg.GetID());
  EXPECT_EQ(pg.GetState(), PlacementGroupState::kRemoved);
}

}  // namespace
}  // namespace pg_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    pg_test::g_wait_mode |= std::strcmp(argv[i], "--prism-scheduler_infeasible=wait") == 0;
  }
  prism::Config config;
  // 2 CPUs everywhere; rank k has k "pgres" (uneven custom resources), up to 8 ranks.
  std::string resources = "CPU=2";
  for (int k = 1; k < 8; ++k) resources += ";pgres=" + std::to_string(k) + "@" + std::to_string(k);
  config.system_config["resources"] = resources;
  prism::Init(config, argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
