#include "prism/gpu/placement.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace prism::gpu {
namespace {

// Two packages of 8 cores x 2 PUs (PUs 0-15 and 16-31), each with its own NUMA node, four
// NVIDIA GPUs and an InfiniBand NIC on its host bridge.
Topology EightGpus() {
  auto topo = Topology::FromXml(PRISM_GPU_TEST_XML_8GPU);
  EXPECT_TRUE(topo.ok()) << topo.error().ToString();
  return std::move(*topo);
}

PlacementRequest Req(int ranks, int index = 0, CpuSet allowed = {},
                     std::optional<std::vector<std::string>> bound = std::nullopt) {
  PlacementRequest request;
  request.ranks = ranks;
  request.index = index;
  request.allowed = std::move(allowed);
  request.bound_gpus = std::move(bound);
  return request;
}

struct Expected {
  std::string cpus;
  std::vector<std::string> gpus;
};

void ExpectPlacement(const Topology& topo, int ranks, const std::vector<Expected>& expected) {
  auto all = PlaceNode(topo, Req(ranks, 0, topo.MachineCpuSet()));
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  ASSERT_EQ(all->size(), expected.size());
  for (int r = 0; r < ranks; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r) + " of " + std::to_string(ranks));
    EXPECT_EQ((*all)[r].cpus.ToString(), expected[r].cpus);
    EXPECT_EQ((*all)[r].gpus, expected[r].gpus);
    EXPECT_FALSE((*all)[r].gpus_bound);
    auto one = PlaceRank(topo, Req(ranks, r, topo.MachineCpuSet()));
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->cpus, (*all)[r].cpus);
    EXPECT_EQ(one->gpus, (*all)[r].gpus);
  }
}

TEST(PlacementTest, FixtureHasTwoSocketsEightGpusAndTwoNics) {
  Topology topo = EightGpus();
  EXPECT_EQ(topo.num_packages(), 2);
  EXPECT_EQ(topo.num_numa_nodes(), 2);
  EXPECT_EQ(topo.num_cores(), 16);
  EXPECT_EQ(topo.num_pus(), 32);
  ASSERT_EQ(topo.Gpus().size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(topo.Gpus()[i].local_cpus.ToString(), i < 4 ? "0-15" : "16-31") << i;
  }
  ASSERT_EQ(topo.Nics().size(), 2u);
  EXPECT_EQ(topo.Nics()[0].name, "mlx5_0");
  EXPECT_EQ(topo.Nics()[0].class_id, 0x0207);
  EXPECT_EQ(topo.Nics()[0].local_cpus.ToString(), "0-15");
  EXPECT_EQ(topo.Nics()[1].name, "mlx5_1");
  EXPECT_EQ(topo.Nics()[1].local_cpus.ToString(), "16-31");
  ASSERT_EQ(topo.CoreCpuSets().size(), 16u);
  EXPECT_EQ(topo.CoreCpuSets()[9].ToString(), "18-19");
}

TEST(PlacementTest, OneRankPerNodeGetsEverything) {
  ExpectPlacement(EightGpus(), 1, {{"0-31", {"0", "1", "2", "3", "4", "5", "6", "7"}}});
}

TEST(PlacementTest, TwoRanksPerNodeGetOneSocketAndItsGpusEach) {
  ExpectPlacement(EightGpus(), 2,
                  {{"0-15", {"0", "1", "2", "3"}}, {"16-31", {"4", "5", "6", "7"}}});
}

TEST(PlacementTest, FourRanksPerNodeGetHalfASocketAndTwoNearGpusEach) {
  ExpectPlacement(
      EightGpus(), 4,
      {{"0-7", {"0", "1"}}, {"8-15", {"2", "3"}}, {"16-23", {"4", "5"}}, {"24-31", {"6", "7"}}});
}

TEST(PlacementTest, EightRanksPerNodeGetTwoCoresAndOneGpuEach) {
  std::vector<Expected> expected;
  for (int r = 0; r < 8; ++r) {
    expected.push_back(
        {std::to_string(4 * r) + "-" + std::to_string(4 * r + 3), {std::to_string(r)}});
  }
  ExpectPlacement(EightGpus(), 8, expected);
}

TEST(PlacementTest, SixteenRanksShareEachGpuWithTheirNeighbour) {
  std::vector<Expected> expected;
  for (int r = 0; r < 16; ++r) {
    expected.push_back(
        {std::to_string(2 * r) + "-" + std::to_string(2 * r + 1), {std::to_string(r / 2)}});
  }
  ExpectPlacement(EightGpus(), 16, expected);
}

TEST(PlacementTest, UnevenSplitGivesTheFirstRanksOneMoreCore) {
  Topology topo = EightGpus();
  auto all = PlaceNode(topo, Req(3));
  ASSERT_TRUE(all.ok());
  // 16 cores: 6, 5, 5. The middle rank straddles the sockets and takes GPUs from both.
  EXPECT_EQ((*all)[0].cpus.ToString(), "0-11");
  EXPECT_EQ((*all)[1].cpus.ToString(), "12-21");
  EXPECT_EQ((*all)[2].cpus.ToString(), "22-31");
  EXPECT_EQ((*all)[0].gpus, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ((*all)[1].gpus, (std::vector<std::string>{"2", "3", "4", "5"}));
  EXPECT_EQ((*all)[2].gpus, (std::vector<std::string>{"6", "7"}));
}

TEST(PlacementTest, MoreRanksThanCoresShareCores) {
  auto topo = Topology::FromSynthetic("pack:1 core:2 pu:1");
  ASSERT_TRUE(topo.ok());
  auto all = PlaceNode(*topo, Req(4));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].cpus.ToString(), "0");
  EXPECT_EQ((*all)[1].cpus.ToString(), "0");
  EXPECT_EQ((*all)[2].cpus.ToString(), "1");
  EXPECT_EQ((*all)[3].cpus.ToString(), "1");
  EXPECT_TRUE((*all)[0].gpus.empty());
}

TEST(PlacementTest, NeverWidensTheAllowedSet) {
  Topology topo = EightGpus();
  // A cgroup (or srun) left these ranks half of package 0 plus one odd PU of package 1.
  auto allowed = CpuSet::Parse("0-7,17");
  ASSERT_TRUE(allowed.ok());
  auto all = PlaceNode(topo, Req(2, 0, *allowed));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].cpus.ToString(), "0-5");     // cores 0-2
  EXPECT_EQ((*all)[1].cpus.ToString(), "6-7,17");  // core 3 and the allowed PU of core 8
  for (const Placement& p : *all) EXPECT_TRUE(p.cpus.IsSubsetOf(*allowed));
}

TEST(PlacementTest, SlurmBoundGpusAreKeptExactly) {
  Topology topo = EightGpus();
  std::vector<std::string> bound = {"2", "5"};
  auto all = PlaceNode(topo, Req(2, 0, {}, bound));
  ASSERT_TRUE(all.ok());
  for (const Placement& p : *all) {
    EXPECT_EQ(p.gpus, bound);
    EXPECT_TRUE(p.gpus_bound);
  }
  auto none = PlaceRank(topo, Req(1, 0, {}, std::vector<std::string>{}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->gpus.empty());
  EXPECT_TRUE(none->gpus_bound);
}

TEST(PlacementTest, GpusNearNoRankAreSharedOutToAll) {
  Topology topo = EightGpus();
  auto allowed = CpuSet::Parse("0-15");
  ASSERT_TRUE(allowed.ok());
  auto all = PlaceNode(topo, Req(2, 0, *allowed));
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].gpus, (std::vector<std::string>{"0", "1", "4", "5"}));
  EXPECT_EQ((*all)[1].gpus, (std::vector<std::string>{"2", "3", "6", "7"}));
}

TEST(PlacementTest, BadRequestsAreErrorsThatSaySo) {
  Topology topo = EightGpus();
  auto zero = PlaceNode(topo, Req(0));
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("at least 1"), std::string::npos);
  auto index = PlaceRank(topo, Req(2, 2));
  ASSERT_FALSE(index.ok());
  EXPECT_NE(index.error().message.find("local rank 2"), std::string::npos);
  auto outside = PlaceNode(topo, Req(1, 0, CpuSet({40, 41})));
  ASSERT_FALSE(outside.ok());
  EXPECT_NE(outside.error().message.find("40-41"), std::string::npos);
}

TEST(PlacementTest, ThreadsGetOneCoreEachWhenThereAreEnough) {
  Topology topo = EightGpus();
  auto rank = CpuSet::Parse("0-7");
  ASSERT_TRUE(rank.ok());
  std::vector<CpuSet> four = ThreadCpuSets(topo, *rank, 4);
  ASSERT_EQ(four.size(), 4u);
  EXPECT_EQ(four[0].ToString(), "0-1");
  EXPECT_EQ(four[3].ToString(), "6-7");
  std::vector<CpuSet> eight = ThreadCpuSets(topo, *rank, 8);  // 8 threads, 4 cores
  ASSERT_EQ(eight.size(), 8u);
  for (const CpuSet& set : eight) EXPECT_EQ(set, *rank);
  EXPECT_TRUE(ThreadCpuSets(topo, *rank, 0).empty());
}

TEST(PlacementTest, HwlocXmlFileDrivesLoad) {
  setenv("HWLOC_XMLFILE", PRISM_GPU_TEST_XML_8GPU, 1);
  auto topo = Topology::Load();
  unsetenv("HWLOC_XMLFILE");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_FALSE(topo->is_this_system());
  auto mine = PlaceRank(*topo, Req(4, 3, topo->AllowedCpuSet().value()));
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->cpus.ToString(), "24-31");
  EXPECT_EQ(mine->gpus, (std::vector<std::string>{"6", "7"}));
}

}  // namespace
}  // namespace prism::gpu
