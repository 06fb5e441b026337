// The scheduler's parts without a cluster: resource arithmetic, bundle resources, the cluster
// view's policies, and the worker pool's ledger under 100,000 random task shapes. Runs as one
// rank (the worker pool needs a transport to poll).

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "bundle_resources.h"
#include "cluster_view.h"
#include "mpi_test_main.h"
#include "prism/common/clock.h"
#include "prism/transport/transport.h"
#include "resources.h"
#include "worker_pool.h"

namespace prism::runtime {
namespace {

transport::MpiBootstrap* g_boot = nullptr;

ResourceSet Res(std::initializer_list<std::pair<const char*, double>> amounts) {
  ResourceSet r;
  for (const auto& [name, amount] : amounts) EXPECT_TRUE(r.Set(name, amount)) << name;
  return r;
}

TEST(ResourceSetTest, AddSubtractEraseAndEquality) {
  ResourceSet a = Res({{"CPU", 2}, {"GPU", 0.5}});
  a.Add(Res({{"CPU", 1}, {"special", 1}}));
  EXPECT_EQ(a, Res({{"CPU", 3}, {"GPU", 0.5}, {"special", 1}}));
  a.Subtract(Res({{"CPU", 4}}));
  EXPECT_EQ(a.Units("CPU"), -kResourceUnit);
  EXPECT_FALSE(a.NonNegative());
  a.Erase("CPU");
  EXPECT_TRUE(a.NonNegative());
  EXPECT_EQ(a, Res({{"GPU", 0.5}, {"special", 1}}));
  EXPECT_EQ(Res({{"CPU", 0}}), ResourceSet());  // a missing entry equals 0
}

TEST(BundleResourcesTest, RaysNamesAndDemandRenaming) {
  PlacementGroupId pg{3, 7};
  std::string hex = pg.Hex();
  EXPECT_EQ(GroupResourceName("CPU", pg, 0), "CPU_group_0_" + hex);
  EXPECT_EQ(GroupResourceName("CPU", pg, -1), "CPU_group_" + hex);
  ResourceSet added = BundleGroupResources(Res({{"CPU", 2}, {"GPU", 1}}), pg, 1);
  EXPECT_EQ(added.Units("CPU_group_1_" + hex), 2 * kResourceUnit);
  EXPECT_EQ(added.Units("CPU_group_" + hex), 2 * kResourceUnit);
  EXPECT_EQ(added.Units("GPU_group_" + hex), kResourceUnit);
  ResourceSet in_bundle = DemandInBundle(Res({{"CPU", 1}, {"GPU", 0.5}}), pg, 1);
  EXPECT_EQ(in_bundle.entries().size(), 4u);
  EXPECT_EQ(BaseUnits(in_bundle, "GPU"), kResourceUnit / 2);
  EXPECT_EQ(BaseUnits(Res({{"GPU", 2}}), "GPU"), 2 * kResourceUnit);
  EXPECT_EQ(DemandInBundle(Res({{"CPU", 1}}), pg, -1).entries().size(), 1u);
  EXPECT_TRUE(IsGroupResourceOf("CPU_group_1_" + hex, pg));
  EXPECT_FALSE(IsGroupResourceOf("CPU_group_1_" + PlacementGroupId{3, 8}.Hex(), pg));
  EXPECT_EQ(PlacementGroupId::FromHex(hex), pg);
  EXPECT_TRUE(PlacementGroupId::FromHex("xyz").IsNil());
}

TEST(BundleResourcesTest, ChooseBundleChecksIndexAndFit) {
  BundleLayout layout{{1, 2, 3}, {Res({{"CPU", 1}}), Res({{"CPU", 2}}), Res({{"CPU", 2}})}};
  auto room_on = [](Rank want) { return [want](Rank r, int) { return r == want; }; };
  std::string error;
  EXPECT_EQ(ChooseBundle(layout, Res({{"CPU", 1}}), 0, 0, room_on(9), &error), 0);
  EXPECT_EQ(ChooseBundle(layout, Res({{"CPU", 2}}), 0, 0, room_on(9), &error), -1);
  EXPECT_NE(error.find("not enough 'CPU'"), std::string::npos) << error;
  EXPECT_EQ(ChooseBundle(layout, Res({{"CPU", 1}}), 3, 0, room_on(9), &error), -1);
  EXPECT_NE(error.find("out of range"), std::string::npos) << error;
  // Any bundle: the first that fits and has room, else the first that fits.
  EXPECT_EQ(ChooseBundle(layout, Res({{"CPU", 2}}), -1, 0, room_on(3), &error), 2);
  EXPECT_EQ(ChooseBundle(layout, Res({{"CPU", 2}}), -1, 0, room_on(9), &error), 1);
  EXPECT_EQ(ChooseBundle(layout, Res({{"CPU", 3}}), -1, 0, room_on(9), &error), -1);
}

// A view of `totals` seen from rank 0, whose own state comes from `local`.
struct ViewFixture {
  explicit ViewFixture(std::vector<ResourceSet> totals, ClusterView::Options options = {})
      : local{0, totals[0], totals[0], 0},
        view(0, totals, std::vector<std::string>{"a", "a", "b", "b", "c", "c", "d", "d"}, options) {
    view.SetLocalSource([this] { return local; });
  }
  void Report(Rank r, ResourceSet available, int64_t waiting = 0) {
    ResourceReport report;
    report.seq = ++seq;
    report.total = view.capacity(r);
    report.available = std::move(available);
    report.waiting = waiting;
    view.OnReport(r, report);
  }
  ResourceReport local;
  ClusterView view;
  uint64_t seq = 0;
};

TEST(ClusterViewTest, InfeasibleNamesTheMissingResourceAndDeadRanksAreSkipped) {
  ViewFixture f({Res({{"CPU", 1}}), Res({{"CPU", 1}})});
  f.view.MarkDead(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), {}).rank, 0);
  ClusterView::Decision d = f.view.Pick(Res({{"GPU", 1}}), {});
  EXPECT_EQ(d.rank, kNoRank);
  EXPECT_TRUE(d.infeasible);
  EXPECT_EQ(d.why, "GPU");
  // A demand bigger than any one rank, though the sum would do.
  d = f.view.Pick(Res({{"CPU", 2}}), {});
  EXPECT_TRUE(d.infeasible);
}

TEST(ClusterViewTest, DefaultPacksLocallyBelowTheThresholdThenSpreads) {
  ViewFixture f({Res({{"CPU", 4}}), Res({{"CPU", 4}}), Res({{"CPU", 4}})});
  // Idle: this rank.
  EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), {}).rank, 0);
  // Half busy (utilisation 0.5, at the threshold): elsewhere.
  f.local.available = Res({{"CPU", 2}});
  std::map<Rank, int> picked;
  for (int i = 0; i < 40; ++i) ++picked[f.view.Pick(Res({{"CPU", 1}}), {}).rank];
  EXPECT_EQ(picked[0], 0);
  EXPECT_GT(picked[1] + picked[2], 0);
  // Rank 1 reports it is full: rank 2 takes everything.
  f.Report(1, Res({{"CPU", 0}}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), {}).rank, 2);
}

TEST(ClusterViewTest, DefaultSendsWorkWhereItHasRoomAndTheLeastLoadedWhenNobodyHas) {
  ViewFixture f({Res({{"CPU", 0}}), Res({{"CPU", 2}}), Res({{"CPU", 2}}), Res({{"CPU", 2}})});
  // Work sent is counted until the next report: 6 tasks fill the 3 ranks, 2 each.
  std::map<Rank, int> picked;
  for (int i = 0; i < 6; ++i) {
    Rank r = f.view.Pick(Res({{"CPU", 1}}), {}).rank;
    f.view.OnSubmitted(r, Res({{"CPU", 1}}));
    ++picked[r];
  }
  EXPECT_EQ(picked[1], 2);
  EXPECT_EQ(picked[2], 2);
  EXPECT_EQ(picked[3], 2);
  // Everyone is full; rank 3 reports a long queue: the others take the overflow.
  f.Report(3, Res({{"CPU", 0}}), /*waiting=*/20);
  for (int i = 0; i < 6; ++i) {
    Rank r = f.view.Pick(Res({{"CPU", 1}}), {}).rank;
    EXPECT_NE(r, 3);
    f.view.OnSubmitted(r, Res({{"CPU", 1}}));
  }
}

TEST(ClusterViewTest, AResultAfterAReportGivesItsResourcesBack) {
  ViewFixture f({Res({{"CPU", 0}}), Res({{"CPU", 1}})});
  uint64_t epoch = f.view.OnSubmitted(1, Res({{"CPU", 1}}));
  EXPECT_FALSE(f.view.HasRoom(1, Res({{"CPU", 1}})));  // counted as sent
  f.Report(1, Res({{"CPU", 0}}), /*waiting=*/0);       // taken while the task ran
  EXPECT_FALSE(f.view.HasRoom(1, Res({{"CPU", 1}})));
  f.view.OnFinished(1, Res({{"CPU", 1}}), epoch);  // its result came after that report
  EXPECT_TRUE(f.view.HasRoom(1, Res({{"CPU", 1}})));
  // Never more than the total, whatever comes back.
  f.view.OnFinished(1, Res({{"CPU", 1}}), epoch);
  EXPECT_EQ(f.view.Snapshot()[1].available.Units("CPU"), kResourceUnit);
}

TEST(ClusterViewTest, CustomResourcesSteerWorkToTheRanksThatHaveThem) {
  ViewFixture f({Res({{"CPU", 2}}), Res({{"CPU", 2}, {"special", 1}}), Res({{"CPU", 2}})});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.view.Pick(Res({{"special", 0.5}}), {}).rank, 1);
}

TEST(ClusterViewTest, DataLocalityWinsWhenThatRankHasRoom) {
  ViewFixture f({Res({{"CPU", 2}}), Res({{"CPU", 2}}), Res({{"CPU", 2}})});
  ClusterView::Request request;
  request.preferred = 2;
  EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), request).rank, 2);
  f.Report(2, Res({{"CPU", 0}}), 5);  // busy: somewhere else
  EXPECT_NE(f.view.Pick(Res({{"CPU", 1}}), request).rank, 2);
}

TEST(ClusterViewTest, SpreadGoesRoundRobinOverRanksWithRoom) {
  ViewFixture f({Res({{"CPU", 8}}), Res({{"CPU", 8}}), Res({{"CPU", 8}}), Res({{"CPU", 8}})});
  ClusterView::Request request;
  request.kind = ClusterView::Request::kSpread;
  std::map<Rank, int> picked;
  for (int i = 0; i < 40; ++i) ++picked[f.view.Pick(Res({{"CPU", 1}}), request).rank];
  for (Rank r = 0; r < 4; ++r) EXPECT_EQ(picked[r], 10) << r;
}

TEST(ClusterViewTest, NodeAffinityHardAndSoft) {
  ViewFixture f({Res({{"CPU", 1}}), Res({{"CPU", 1}}), Res({{"CPU", 1}, {"GPU", 1}})});
  std::string error;
  ClusterView::Request request;
  request.kind = ClusterView::Request::kAffinity;
  request.affinity = f.view.ResolveNode("rank:2", "0123456789abcdef", &error);
  ASSERT_EQ(request.affinity, std::vector<Rank>{2});
  // Hard: there even when it is busy (the work waits there).
  f.Report(2, Res({{"CPU", 0}, {"GPU", 1}}), 3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), request).rank, 2);
  // Dead: hard fails, soft goes elsewhere.
  f.view.MarkDead(2);
  ClusterView::Decision hard = f.view.Pick(Res({{"CPU", 1}}), request);
  EXPECT_EQ(hard.rank, kNoRank);
  EXPECT_TRUE(hard.infeasible);
  request.soft = true;
  Rank soft = f.view.Pick(Res({{"CPU", 1}}), request).rank;
  EXPECT_TRUE(soft == 0 || soft == 1) << soft;
  // Soft but infeasible there (no GPU on rank 0): elsewhere too.
  ViewFixture g({Res({{"CPU", 1}}), Res({{"CPU", 1}, {"GPU", 1}})});
  ClusterView::Request on0;
  on0.kind = ClusterView::Request::kAffinity;
  on0.affinity = {0};
  on0.soft = true;
  EXPECT_EQ(g.view.Pick(Res({{"GPU", 1}}), on0).rank, 1);
  on0.soft = false;
  EXPECT_TRUE(g.view.Pick(Res({{"GPU", 1}}), on0).infeasible);
}

TEST(ClusterViewTest, ResolvesNodeIdsRanksAndHosts) {
  ViewFixture f({Res({{"CPU", 1}}), Res({{"CPU", 1}}), Res({{"CPU", 1}}), Res({{"CPU", 1}})});
  std::string job = "0123456789abcdef";
  std::string error;
  EXPECT_EQ(f.view.ResolveNode(job + "0000000000000003", job, &error), std::vector<Rank>{3});
  EXPECT_EQ(f.view.ResolveNode("host:b", job, &error), (std::vector<Rank>{2, 3}));
  EXPECT_EQ(f.view.ResolveNode("rank:1", job, &error), std::vector<Rank>{1});
  EXPECT_TRUE(f.view.ResolveNode("rank:4", job, &error).empty());
  EXPECT_NE(error.find("'rank:4' names no node"), std::string::npos) << error;
  EXPECT_TRUE(f.view.ResolveNode("ffffffffffffffff0000000000000001", job, &error).empty());
  EXPECT_TRUE(f.view.ResolveNode("host:zzz", job, &error).empty());
  EXPECT_TRUE(f.view.ResolveNode("rank:1x", job, &error).empty());
}

TEST(ClusterViewTest, SpillbackFindsOnlyAnotherRankWithRoom) {
  ViewFixture f({Res({{"CPU", 1}}), Res({{"CPU", 1}}), Res({{"CPU", 1}})});
  f.local.available = Res({{"CPU", 0}});
  f.Report(1, Res({{"CPU", 0}}));
  f.Report(2, Res({{"CPU", 0}}));
  ClusterView::Request spill;
  spill.exclude_self = true;
  EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), spill).rank, kNoRank);
  f.Report(2, Res({{"CPU", 1}}));
  EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), spill).rank, 2);
  // Counted once sent: the next one stays.
  f.view.OnSubmitted(2, Res({{"CPU", 1}}));
  EXPECT_EQ(f.view.Pick(Res({{"CPU", 1}}), spill).rank, kNoRank);
}

TEST(ClusterViewTest, ActorsNeedingNothingGoAnywhere) {
  ViewFixture f({Res({{"CPU", 1}}), Res({{"CPU", 1}}), Res({{"CPU", 1}}), Res({{"CPU", 1}})});
  ClusterView::Request actor;
  actor.for_actor = true;
  std::map<Rank, int> picked;
  for (int i = 0; i < 400; ++i) ++picked[f.view.Pick(ResourceSet(), actor).rank];
  for (Rank r = 0; r < 4; ++r) EXPECT_GT(picked[r], 50) << r;
}

class WorkerPoolTest : public testing::Test {
 protected:
  void SetUp() override {
    auto created = transport::Transport::Create(*g_boot, transport::TransportOptions{});
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    transport_ = std::move(*created);
    ASSERT_TRUE(transport_->Start(*g_boot).ok());
  }
  void TearDown() override {
    if (transport_) transport_->Stop();
  }
  static void WaitIdle(WorkerPool& pool) {
    int64_t deadline = NowNanos() + 60'000'000'000;
    while (pool.load() > 0 && NowNanos() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(pool.load(), 0);
  }
  std::unique_ptr<transport::Transport> transport_;
};

TEST_F(WorkerPoolTest, RandomTaskShapesNeverOvercommitOrLeak) {
  // 100,000 random demands over CPU, GPU (fractions), memory and a custom resource, with
  // withdrawals and placement-group reservations mixed in: no resource in use ever exceeds the
  // total, and everything comes back.
  ResourceSet capacity = Res({{"CPU", 4}, {"GPU", 2}, {"memory", 1000}, {"special", 3}});
  WorkerPool::Options options;
  options.capacity = capacity;
  options.spin_ns = 0;
  WorkerPool pool(*transport_, options);
  pool.Start();
  const char* names[] = {"CPU", "GPU", "memory", "special"};
  std::atomic<int64_t> in_use[4] = {0, 0, 0, 0};
  std::atomic<int64_t> violations{0};
  std::atomic<int64_t> ran{0};
  std::mt19937_64 rng(11);
  double fractions[] = {0, 0.0001, 0.25, 0.5, 1, 2};
  int withdrawn = 0;
  int reserved = 0;
  std::vector<ResourceSet> reservations;
  for (uint64_t i = 1; i <= 100'000; ++i) {
    ResourceSet demand;
    for (int k = 0; k < 4; ++k) {
      if (rng() % 3 == 0) continue;
      double amount = k == 2 ? static_cast<double>(rng() % 400) : fractions[rng() % 6];
      if (amount > 0) {
        ASSERT_TRUE(demand.Set(names[k], amount));
      }
    }
    std::array<int64_t, 4> units{};
    for (int k = 0; k < 4; ++k) units[k] = demand.Units(names[k]);
    pool.Enqueue(
        demand,
        [&, units] {
          for (int k = 0; k < 4; ++k) {
            int64_t now = in_use[k].fetch_add(units[k]) + units[k];
            if (now > capacity.Units(names[k])) violations.fetch_add(1);
          }
          if (!pool.Available().NonNegative()) violations.fetch_add(1);
          for (int k = 0; k < 4; ++k) in_use[k].fetch_sub(units[k]);
          ran.fetch_add(1);
        },
        i);
    if (rng() % 50 == 0) {
      withdrawn += pool.Withdraw(i - rng() % 8) ? 1 : 0;
    }
    if (rng() % 500 == 0) {
      ResourceSet bundle = Res({{"CPU", 1}});
      if (pool.TryReserve(bundle)) {
        reservations.push_back(bundle);
        ++reserved;
      }
    }
    if (!reservations.empty() && rng() % 400 == 0) {
      pool.Return(reservations.back());
      reservations.pop_back();
    }
  }
  for (const ResourceSet& r : reservations) pool.Return(r);
  WaitIdle(pool);
  EXPECT_EQ(violations.load(), 0);
  EXPECT_EQ(ran.load() + withdrawn, 100'000);
  EXPECT_GT(withdrawn, 0);
  EXPECT_GT(reserved, 0);
  EXPECT_EQ(pool.Available(), capacity);
  EXPECT_EQ(pool.Total(), capacity);
  pool.Stop();
}

TEST_F(WorkerPoolTest, WorkOfOneShapeDoesNotBlockAnother) {
  WorkerPool::Options options;
  options.capacity = Res({{"CPU", 2}, {"GPU", 1}});
  WorkerPool pool(*transport_, options);
  pool.Start();
  std::atomic<bool> release{false};
  std::atomic<int> cpu_done{0};
  pool.Enqueue(Res({{"GPU", 1}}), [&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  pool.Enqueue(
      Res({{"GPU", 1}}), [] {}, 77);  // waits for the GPU
  for (int i = 0; i < 10; ++i) pool.Enqueue(Res({{"CPU", 1}}), [&] { cpu_done.fetch_add(1); });
  int64_t deadline = NowNanos() + 30'000'000'000;
  while (cpu_done.load() < 10 && NowNanos() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(cpu_done.load(), 10);
  EXPECT_EQ(pool.waiting(), 1);
  EXPECT_EQ(pool.WaitingTags(10), std::vector<uint64_t>{77});
  EXPECT_TRUE(pool.Withdraw(77));
  EXPECT_FALSE(pool.Withdraw(77));
  release.store(true);
  WaitIdle(pool);
  EXPECT_EQ(pool.Available(), options.capacity);
  pool.Stop();
}

TEST_F(WorkerPoolTest, FourQuarterGpuTasksRunTogether) {
  WorkerPool::Options options;
  options.capacity = Res({{"CPU", 4}, {"GPU", 1}});
  WorkerPool pool(*transport_, options);
  pool.Start();
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::atomic<bool> release{false};
  for (int i = 0; i < 5; ++i) {
    pool.Enqueue(Res({{"GPU", 0.25}}), [&] {
      int now = running.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      running.fetch_sub(1);
    });
  }
  int64_t deadline = NowNanos() + 30'000'000'000;
  while (running.load() < 4 && NowNanos() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(running.load(), 4);  // the fifth waits: one GPU holds four quarters
  EXPECT_EQ(pool.waiting(), 1);
  release.store(true);
  WaitIdle(pool);
  EXPECT_EQ(most.load(), 4);
  pool.Stop();
}

TEST_F(WorkerPoolTest, BundleCapacityComesAndGoes) {
  WorkerPool::Options options;
  options.capacity = Res({{"CPU", 4}});
  WorkerPool pool(*transport_, options);
  pool.Start();
  PlacementGroupId pg{0, 1};
  ResourceSet bundle = Res({{"CPU", 3}});
  ASSERT_TRUE(pool.TryReserve(bundle));
  EXPECT_FALSE(pool.TryReserve(Res({{"CPU", 2}})));  // only 1 CPU left outside the bundle
  ResourceSet group = BundleGroupResources(bundle, pg, 0);
  pool.AddCapacity(group);
  std::atomic<int> done{0};
  for (int i = 0; i < 6; ++i)
    pool.Enqueue(DemandInBundle(Res({{"CPU", 1}}), pg, 0), [&] { done.fetch_add(1); });
  WaitIdle(pool);
  EXPECT_EQ(done.load(), 6);
  pool.RemoveCapacity(group);
  pool.Return(bundle);
  EXPECT_EQ(pool.Available(), options.capacity);
  EXPECT_EQ(pool.Total(), options.capacity);
  pool.Stop();
}

}  // namespace
}  // namespace prism::runtime

int main(int argc, char** argv) {
  auto boot = prism::test::StartMpiTests(&argc, &argv);
  prism::runtime::g_boot = boot.get();
  // No transport lives between tests: nothing to progress at the final barrier.
  int rc = prism::test::RunTestsOnAllRanks(*boot, nullptr);
  prism::runtime::g_boot = nullptr;
  boot->Finalize();
  return rc;
}
