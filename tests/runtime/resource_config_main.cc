// Per-rank resources from PRISM_RESOURCES (issue 5, RES-05/06/07/21/25) on 4 ranks of one host.
// ctest sets PRISM_RESOURCES="special=1@1;special=2@2-3;GPU=1@3" and
// PRISM_ACCELERATOR_TYPE=H200; every rank runs this binary, rank 0 runs the cases.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <iostream>
#include <map>
#include <string>

namespace resource_config_test {

int WhereAmI() { return prism::GetRuntimeContext().GetRank(); }

std::string MyGpus() {
  std::string ids;
  for (const auto& id : prism::GetGpuIds()) ids += id + ";";
  return std::to_string(prism::GetRuntimeContext().GetRank()) + ":" + ids;
}

}  // namespace resource_config_test

PRISM_REMOTE(resource_config_test::WhereAmI, resource_config_test::MyGpus);

namespace resource_config_test {
namespace {

TEST(ResourceConfigMultiRankTest, ClusterResourcesSumTheRanksSettings) {
  auto total = prism::ClusterResources();
  std::map<std::string, double> sorted(total.begin(), total.end());
  std::cout.precision(15);
  for (const auto& [name, amount] : sorted) std::cout << name << " = " << amount << "\n";
  ASSERT_EQ(prism::GetRuntimeContext().GetWorldSize(), 4);
  EXPECT_EQ(total["special"], 5);  // rank 1: 1, ranks 2 and 3: 2 each
  EXPECT_EQ(total["GPU"], 1);
  EXPECT_EQ(total["accelerator_type:H200"], 1);  // only the rank with a GPU
  EXPECT_GT(total["memory"], 0);
  EXPECT_GT(total["CPU"], 0);
  // One node:<host> resource per rank; all 4 ranks are on this host.
  EXPECT_EQ(total["node:" + prism::GetRuntimeContext().GetHostname()], 4);
}

TEST(ResourceConfigMultiRankTest, TasksGoWhereTheirCustomResourceIs) {
  for (int i = 0; i < 4; ++i) {
    int rank = *prism::Task(WhereAmI).SetResource("special", 2).Remote().Get(30'000);
    EXPECT_TRUE(rank == 2 || rank == 3) << rank;
    auto one = prism::Task(WhereAmI).SetResource("special", 1).Remote();
    EXPECT_GE(*one.Get(30'000), 1);  // ranks 1-3 have at least 1
  }
  EXPECT_EQ(*prism::Task(WhereAmI)
                 .SetResource("accelerator_type:H200", 0.001)
                 .SetResource("CPU", 0)
                 .Remote()
                 .Get(30'000),
            3);
  // SetAcceleratorType asks for the same pseudo-resource.
  EXPECT_EQ(
      *prism::Task(WhereAmI).SetAcceleratorType("H200").SetResource("CPU", 0).Remote().Get(30'000),
      3);
  EXPECT_THROW((void)prism::Task(WhereAmI).SetAcceleratorType("A100").Remote().Get(30'000),
               prism::TaskUnschedulableError);
  // The GPU declared by the setting on a host without GPUs gets an id, as with num_gpus.
  EXPECT_EQ(*prism::Task(MyGpus).SetResource("GPU", 1).Remote().Get(30'000), "3:0;");
  std::string node = "node:" + prism::GetRuntimeContext().GetHostname();
  EXPECT_GE(*prism::Task(WhereAmI).SetResource(node, 0.001).Remote().Get(30'000), 0);
}

}  // namespace
}  // namespace resource_config_test

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  prism::Init(argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
