#include "prism/gpu/topology.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <utility>

namespace prism::gpu {
namespace {

// Sets (or, with nullptr, unsets) an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(TopologyTest, SyntheticCountsPackagesNumaCoresAndPus) {
  auto topo = Topology::FromSynthetic("pack:2 numa:1 core:8 pu:2");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_FALSE(topo->is_this_system());
  EXPECT_EQ(topo->num_packages(), 2);
  EXPECT_EQ(topo->num_numa_nodes(), 2);
  EXPECT_EQ(topo->num_cores(), 16);
  EXPECT_EQ(topo->num_pus(), 32);
  EXPECT_EQ(topo->MachineCpuSet().ToString(), "0-31");
  EXPECT_TRUE(topo->Gpus().empty());
}

TEST(TopologyTest, SyntheticPackageAndNumaCpuSets) {
  auto topo = Topology::FromSynthetic("pack:2 numa:1 core:8 pu:2");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  auto package0 = topo->PackageCpuSet(0);
  auto package1 = topo->PackageCpuSet(1);
  ASSERT_TRUE(package0.ok());
  ASSERT_TRUE(package1.ok());
  EXPECT_EQ(package0->ToString(), "0-15");
  EXPECT_EQ(package1->ToString(), "16-31");
  auto numa1 = topo->NumaNodeCpuSet(1);
  ASSERT_TRUE(numa1.ok());
  EXPECT_EQ(*numa1, *package1);
}

TEST(TopologyTest, OutOfRangeIndexIsNotFound) {
  auto topo = Topology::FromSynthetic("pack:2 numa:1 core:8 pu:2");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  auto missing = topo->PackageCpuSet(2);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("package 2"), std::string::npos);
  EXPECT_FALSE(topo->PackageCpuSet(-1).ok());
  EXPECT_FALSE(topo->NumaNodeCpuSet(7).ok());
}

TEST(TopologyTest, CoresInCountsCoresTouchingTheSet) {
  auto topo = Topology::FromSynthetic("pack:2 numa:1 core:8 pu:2");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_EQ(topo->CoresIn(topo->MachineCpuSet()), 16);
  EXPECT_EQ(topo->CoresIn(topo->PackageCpuSet(1).value()), 8);
  // PUs 0 and 1 share core 0; PU 3 is the second thread of core 1.
  EXPECT_EQ(topo->CoresIn(CpuSet({0, 1, 3})), 2);
  EXPECT_EQ(topo->CoresIn(CpuSet()), 0);
}

TEST(TopologyTest, CoresInCountsPusWithoutCoreLevel) {
  auto topo = Topology::FromSynthetic("pack:1 pu:4");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_EQ(topo->num_cores(), 0);
  EXPECT_EQ(topo->CoresIn(CpuSet({1, 2})), 2);
}

TEST(TopologyTest, FakeTopologyAllowsTheWholeMachine) {
  auto topo = Topology::FromSynthetic("pack:2 numa:1 core:8 pu:2");
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  auto allowed = topo->AllowedCpuSet();
  ASSERT_TRUE(allowed.ok()) << allowed.error().ToString();
  EXPECT_EQ(allowed->ToString(), "0-31");
}

TEST(TopologyTest, BadSyntheticDescriptionIsInvalidArgument) {
  auto topo = Topology::FromSynthetic("pack:two");
  ASSERT_FALSE(topo.ok());
  EXPECT_EQ(topo.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(topo.error().message.find("pack:two"), std::string::npos);
}

TEST(TopologyTest, MissingXmlFileIsAnErrorNamingThePath) {
  auto topo = Topology::FromXml("/nonexistent/prism/topology.xml");
  ASSERT_FALSE(topo.ok());
  EXPECT_NE(topo.error().message.find("/nonexistent/prism/topology.xml"), std::string::npos);
}

TEST(TopologyTest, XmlFixtureHasFourGpusLocalToTheirPackages) {
  auto topo = Topology::FromXml(PRISM_GPU_TEST_XML);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_EQ(topo->num_packages(), 2);
  EXPECT_EQ(topo->num_pus(), 32);
  const auto& gpus = topo->Gpus();
  ASSERT_EQ(gpus.size(), 4u);  // The InfiniBand NIC under package 1 is not a GPU.
  const char* bus_ids[] = {"0000:41:00.0", "0000:42:00.0", "0000:c1:00.0", "0000:c2:00.0"};
  for (size_t i = 0; i < gpus.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(gpus[i].bus_id.ToString(), bus_ids[i]);
    EXPECT_EQ(gpus[i].vendor_id, 0x10de);
    EXPECT_EQ(gpus[i].device_id, 0x2335);
    EXPECT_EQ(gpus[i].class_id, 0x0302);
    EXPECT_EQ(gpus[i].cuda_name, "cuda" + std::to_string(i));
  }
  CpuSet package0 = topo->PackageCpuSet(0).value();
  CpuSet package1 = topo->PackageCpuSet(1).value();
  EXPECT_EQ(gpus[0].local_cpus, package0);
  EXPECT_EQ(gpus[1].local_cpus, package0);
  EXPECT_EQ(gpus[2].local_cpus, package1);
  EXPECT_EQ(gpus[3].local_cpus, package1);
  EXPECT_EQ(gpus[3].local_cpus.ToString(), "16-31");
}

TEST(TopologyTest, FindGpuMatchesBusIdsAsCudaPrintsThem) {
  auto topo = Topology::FromXml(PRISM_GPU_TEST_XML);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  auto gpu = topo->FindGpu(PciBusId::Parse("00000000:C1:00.0").value());
  ASSERT_TRUE(gpu.ok()) << gpu.error().ToString();
  EXPECT_EQ(gpu->cuda_name, "cuda2");
  EXPECT_EQ(gpu->local_cpus.ToString(), "16-31");
  auto missing = topo->FindGpu(PciBusId::Parse("0000:c3:00.0").value());  // The NIC.
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(TopologyTest, LoadDiscoversThisMachine) {
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  if (std::getenv("HWLOC_XMLFILE") == nullptr && std::getenv("HWLOC_SYNTHETIC") == nullptr) {
    EXPECT_TRUE(topo->is_this_system());
  }
  EXPECT_GE(topo->num_pus(), 1);
  EXPECT_GE(topo->num_packages(), 1);
  auto allowed = topo->AllowedCpuSet();
  ASSERT_TRUE(allowed.ok()) << allowed.error().ToString();
  EXPECT_FALSE(allowed->empty());
  EXPECT_TRUE(allowed->IsSubsetOf(topo->MachineCpuSet()));
  EXPECT_GE(topo->CoresIn(*allowed), 1);
  for (const PciGpu& gpu : topo->Gpus()) {
    EXPECT_FALSE(gpu.local_cpus.empty()) << gpu.bus_id.ToString();
  }
}

TEST(TopologyTest, LoadHonoursHwlocSyntheticEnvironment) {
  ScopedEnv xml("HWLOC_XMLFILE", nullptr);
  ScopedEnv synthetic("HWLOC_SYNTHETIC", "pack:4 core:4 pu:1");
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_FALSE(topo->is_this_system());
  EXPECT_EQ(topo->num_packages(), 4);
  EXPECT_EQ(topo->num_pus(), 16);
  EXPECT_EQ(topo->AllowedCpuSet().value().ToString(), "0-15");
}

TEST(TopologyTest, LoadHonoursHwlocXmlFileEnvironment) {
  ScopedEnv synthetic("HWLOC_SYNTHETIC", nullptr);
  ScopedEnv xml("HWLOC_XMLFILE", PRISM_GPU_TEST_XML);
  auto topo = Topology::Load();
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  EXPECT_FALSE(topo->is_this_system());
  EXPECT_EQ(topo->Gpus().size(), 4u);
}

TEST(TopologyTest, MovedTopologyKeepsItsData) {
  auto topo = Topology::FromXml(PRISM_GPU_TEST_XML);
  ASSERT_TRUE(topo.ok()) << topo.error().ToString();
  Topology moved = std::move(*topo);
  EXPECT_EQ(moved.Gpus().size(), 4u);
  Topology assigned = Topology::FromSynthetic("pack:1 core:2 pu:1").value();
  assigned = std::move(moved);
  EXPECT_EQ(assigned.num_pus(), 32);
}

}  // namespace
}  // namespace prism::gpu
