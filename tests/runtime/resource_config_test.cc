// A rank's resources from its defaults and the `resources` setting (resource_config.h), the
// setting's syntax (resource_spec.h) and the accelerator type (accelerator_type.h).

#include "resource_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "accelerator_type.h"
#include "resource_spec.h"

namespace prism::runtime {
namespace {

using ::testing::HasSubstr;

ResourceInputs Inputs(int rank = 1, std::string resources = "") {
  ResourceInputs in;
  in.rank = rank;
  in.hostname = "n1";
  in.detected_cpus = 4;
  in.node_memory_limit_bytes = 40'000'000'000;  // split over 4 ranks: 10 GB each
  in.ranks_on_node = 4;
  in.resources = std::move(resources);
  return in;
}

std::map<std::string, double> Amounts(const ResourceInputs& in) {
  auto set = ComputeRankResources(in);
  EXPECT_TRUE(set) << set.error().message;
  std::map<std::string, double> out;
  if (set) {
    for (const auto& [name, amount] : set->Amounts()) out[name] = amount;
  }
  return out;
}

std::string ErrorOf(const ResourceInputs& in) {
  auto set = ComputeRankResources(in);
  EXPECT_FALSE(set) << "accepted: " << set->ToString();
  return set ? "" : set.error().message;
}

TEST(ResourceConfigTest, DefaultsCpuMemoryAndNodeResource) {
  auto amounts = Amounts(Inputs());
  EXPECT_EQ(amounts,
            (std::map<std::string, double>{{"CPU", 4}, {"memory", 7'000'000'000}, {"node:n1", 1}}));
}

TEST(ResourceConfigTest, CpuSettingsAsBefore) {
  ResourceInputs in = Inputs(0);
  in.num_cpus = 2;
  EXPECT_EQ(Amounts(in)["CPU"], 2);
  in.head_cpus = 0;                     // rank 0 only
  EXPECT_EQ(Amounts(in).at("CPU"), 0);  // CPU stays listed at 0
  in.rank = 1;
  EXPECT_EQ(Amounts(in)["CPU"], 2);
  in.num_cpus = 0.5;
  EXPECT_EQ(Amounts(in)["CPU"], 0.5);
  in.num_cpus = 2.5;
  EXPECT_THAT(ErrorOf(in), HasSubstr("num_cpus"));
}

TEST(ResourceConfigTest, GpusFromIdsOrNumGpus) {
  ResourceInputs in = Inputs();
  in.gpu_ids = {"0", "1"};
  EXPECT_EQ(Amounts(in)["GPU"], 2);
  in.num_gpus = 3;
  EXPECT_EQ(Amounts(in)["GPU"], 3);
  in.num_gpus = 0;
  EXPECT_EQ(Amounts(in).count("GPU"), 0U);  // zero resources other than CPU are dropped
}

TEST(ResourceConfigTest, MemoryIsSeventyPercentOfTheRanksShare) {
  ResourceInputs in = Inputs();
  in.node_memory_limit_bytes = 1001;
  in.ranks_on_node = 1;
  EXPECT_EQ(Amounts(in)["memory"], 700);  // floor(0.7 * 1001): a whole number of bytes
  in.memory_limit = 2'000'000'000;        // the rank's own limit wins over its share
  EXPECT_EQ(Amounts(in)["memory"], 1'400'000'000);
  in.memory_limit = 0;
  in.node_memory_limit_bytes = 0;  // unknown: no memory resource
  EXPECT_EQ(Amounts(in).count("memory"), 0U);
}

TEST(ResourceConfigTest, SettingOverridesDefaultsAndAddsCustomResources) {
  auto amounts = Amounts(Inputs(1, "CPU=8,GPU=2,memory=1000,special_hardware=1"));
  EXPECT_EQ(amounts["CPU"], 8);
  EXPECT_EQ(amounts["GPU"], 2);
  EXPECT_EQ(amounts["memory"], 1000);
  EXPECT_EQ(amounts["special_hardware"], 1);
  EXPECT_EQ(amounts["node:n1"], 1);
}

TEST(ResourceConfigTest, SelectorsByRankRangeAndHost) {
  const std::string spec = "special=1@1;special=2@2-3;big=4@n2,0;tiny=0.001@n[3-4]";
  std::map<int, std::map<std::string, double>> by_rank;
  for (int rank = 0; rank < 6; ++rank) {
    ResourceInputs in = Inputs(rank, spec);
    in.hostname = rank < 4 ? "n1" : (rank == 4 ? "n2.cluster.org" : "n4");
    by_rank[rank] = Amounts(in);
  }
  EXPECT_EQ(by_rank[0].count("special"), 0U);
  EXPECT_EQ(by_rank[1]["special"], 1);
  EXPECT_EQ(by_rank[2]["special"], 2);
  EXPECT_EQ(by_rank[3]["special"], 2);
  EXPECT_EQ(by_rank[4].count("special"), 0U);
  EXPECT_EQ(by_rank[0]["big"], 4);  // rank 0 by number
  EXPECT_EQ(by_rank[1].count("big"), 0U);
  EXPECT_EQ(by_rank[4]["big"], 4);       // "n2" matches "n2.cluster.org"
  EXPECT_EQ(by_rank[5]["tiny"], 0.001);  // n4 is in the hostlist n[3-4]
  EXPECT_EQ(by_rank[4].count("tiny"), 0U);
  EXPECT_EQ(by_rank[4]["node:n2.cluster.org"], 1);
}

TEST(ResourceConfigTest, LaterEntriesWin) {
  EXPECT_EQ(Amounts(Inputs(2, "a=1;a=3@2;a=2@0-1"))["a"], 3);
  EXPECT_EQ(Amounts(Inputs(1, "a=1;a=3@2;a=2@0-1"))["a"], 2);
  EXPECT_EQ(Amounts(Inputs(1, "CPU=2;CPU=0@1")).at("CPU"), 0);
  EXPECT_EQ(Amounts(Inputs(1, "x=1; ;x=0;")).count("x"), 0U);  // empty entries are ignored
}

TEST(ResourceConfigTest, JsonFormAsRayStart) {
  auto amounts = Amounts(Inputs(1, R"({"special_hardware": 1, "GPU": 2, "custom_label": 0.5})"));
  EXPECT_EQ(amounts["special_hardware"], 1);
  EXPECT_EQ(amounts["GPU"], 2);
  EXPECT_EQ(amounts["custom_label"], 0.5);
  EXPECT_EQ(Amounts(Inputs(3, R"( { "a" : 2e0 } @3 ; b=1)"))["a"], 2);
  EXPECT_EQ(Amounts(Inputs(2, R"({"a": 2}@3)")).count("a"), 0U);
  EXPECT_EQ(Amounts(Inputs(1, "{}")).size(), 3U);
}

TEST(ResourceConfigTest, PrecisionAndWholeNumberRules) {
  EXPECT_EQ(Amounts(Inputs(1, "x=0.0001"))["x"], 0.0001);
  EXPECT_THAT(ErrorOf(Inputs(1, "a=1;x=0.00001")),
              AllOf(HasSubstr("entry 2 'x=0.00001'"), HasSubstr("0.0001 precision")));
  EXPECT_THAT(ErrorOf(Inputs(1, "GPU=1.5@3")),
              AllOf(HasSubstr("entry 1 'GPU=1.5@3'"), HasSubstr("whole numbers")));
  EXPECT_THAT(ErrorOf(Inputs(1, R"({"special": 2.5})")), HasSubstr("whole numbers"));
  EXPECT_THAT(ErrorOf(Inputs(1, "x=-1")), HasSubstr(">= 0"));
  EXPECT_THAT(ErrorOf(Inputs(1, "x=nan")), HasSubstr("finite"));
  EXPECT_THAT(ErrorOf(Inputs(1, "memory=1e15")), HasSubstr("largest amount"));
}

TEST(ResourceConfigTest, MalformedTextNamesTheEntry) {
  struct Case {
    const char* spec;
    const char* message;
  };
  const Case cases[] = {
      {"special", "'special' is not name=amount"},
      {"a=1,", "'' is not name=amount"},
      {"a=", "'' is not a number"},
      {"a=1x", "'1x' is not a number"},
      {"a=0x10", "is not a number"},
      {"=1", "'' is not a resource name"},
      {"a b=1", "'a b' is not a resource name"},
      {"a=1@", "empty selector"},
      {"a=1@1,,2", "empty item"},
      {"a=1@3-1", "descending"},
      {"a=1@1@2", "more than one '@'"},
      {"a=1@n[1-", "host list 'n[1-'"},
      {"a=1@99999999999", "too large"},
      {"@1", "no resource"},
      {"{\"a\": 1", "closing '}'"},
      {"{\"a\": \"1\"}", "\"a\": expected a number"},
      {"{\"a\" 1}", "expected ':'"},
      {"{\"a\": 1 \"b\": 2}", "expected ',' or '}'"},
      {"{a: 1}", "quoted resource name"},
      {"{\"a\": 1} x", "after the JSON object"},
  };
  for (const Case& c : cases) {
    std::string message = ErrorOf(Inputs(1, std::string("ok=1;") + c.spec));
    EXPECT_THAT(message, HasSubstr(std::string("resources entry 2 '") + c.spec)) << c.spec;
    EXPECT_THAT(message, HasSubstr(c.message)) << c.spec;
  }
}

TEST(ResourceConfigTest, AcceleratorTypeOnlyWithGpus) {
  ResourceInputs in = Inputs();
  in.accelerator_type = "H200";
  EXPECT_EQ(Amounts(in).count("accelerator_type:H200"), 0U);  // no GPU: no type
  in.gpu_ids = {"0"};
  EXPECT_EQ(Amounts(in)["accelerator_type:H200"], 1);
  in.resources = "GPU=0@1";
  EXPECT_EQ(Amounts(in).count("accelerator_type:H200"), 0U);
  in.resources = "accelerator_type:H200=0.5";  // the setting can change it too
  EXPECT_EQ(Amounts(in)["accelerator_type:H200"], 0.5);
  in.resources = "";
  in.accelerator_type = "bad type";
  EXPECT_THAT(ErrorOf(in), HasSubstr("accelerator_type 'bad type'"));
  in.accelerator_type = "";
  in.resources = "GPU=1";  // declared GPUs, no known type
  auto amounts = Amounts(in);
  EXPECT_EQ(std::count_if(amounts.begin(), amounts.end(),
                          [](const auto& e) { return e.first.rfind("accelerator_type:", 0) == 0; }),
            0);
}

TEST(ResourceConfigTest, GpuIdsForCapacity) {
  using Ids = std::vector<std::string>;
  EXPECT_EQ(GpuIdsForCapacity({"2", "3"}, 2 * kResourceUnit), (Ids{"2", "3"}));
  EXPECT_EQ(GpuIdsForCapacity({"2", "3"}, 1 * kResourceUnit), (Ids{"2"}));
  EXPECT_EQ(GpuIdsForCapacity({"1"}, 3 * kResourceUnit), (Ids{"1", "0", "2"}));
  EXPECT_EQ(GpuIdsForCapacity({}, kResourceUnit / 2), (Ids{"0"}));
  EXPECT_EQ(GpuIdsForCapacity({"0"}, 0), Ids{});
}

TEST(AcceleratorTypeTest, NormalizesGpuModelsAsRay) {
  EXPECT_EQ(NormalizeGpuModel("NVIDIA H200"), "H200");
  EXPECT_EQ(NormalizeGpuModel("NVIDIA A100-SXM4-80GB"), "A100");
  EXPECT_EQ(NormalizeGpuModel("  NVIDIA H100 80GB HBM3 "), "H100");
  EXPECT_EQ(NormalizeGpuModel("Tesla V100-SXM2-16GB"), "V100");
  EXPECT_EQ(NormalizeGpuModel("Tesla T4"), "T4");
  EXPECT_EQ(NormalizeGpuModel("NVIDIA A10G"), "A10G");
  EXPECT_EQ(NormalizeGpuModel("NVIDIA L40S"), "L40S");
  EXPECT_EQ(NormalizeGpuModel("NVIDIA GeForce RTX 4090"), "RTX_4090");
  EXPECT_EQ(NormalizeGpuModel("NVIDIA RTX A6000"), "RTX_A6000");
  EXPECT_EQ(NormalizeGpuModel("NVIDIA"), "");
  EXPECT_EQ(NormalizeGpuModel(""), "");
}

TEST(AcceleratorTypeTest, SlurmGpuType) {
  EXPECT_EQ(SlurmGpuType("a100:2"), "A100");
  EXPECT_EQ(SlurmGpuType("gpu:h200:1"), "H200");
  EXPECT_EQ(SlurmGpuType("a100:1,a100:2"), "A100");
  EXPECT_EQ(SlurmGpuType("2"), "");
  EXPECT_EQ(SlurmGpuType("a100:1,v100:1"), "");
  EXPECT_EQ(SlurmGpuType(":2"), "");
  EXPECT_EQ(SlurmGpuType(""), "");
}

class AcceleratorDetectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("prism-accel-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    sources_.nvidia_gpus_dir = dir_.string();
    sources_.get_env = [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    };
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void AddGpu(const std::string& bus_id, const std::string& model) {
    std::filesystem::create_directories(dir_ / bus_id);
    std::ofstream(dir_ / bus_id / "information")
        << "Model: \t\t " << model << "\nIRQ:   \t\t 42\nBus Location: \t " << bus_id << "\n";
  }

  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  AcceleratorSources sources_;
};

TEST_F(AcceleratorDetectionTest, DriverFirstThenSlurmThenNone) {
  EXPECT_EQ(DetectAcceleratorType(sources_), "");
  env_["SLURM_GPUS"] = "3";
  EXPECT_EQ(DetectAcceleratorType(sources_), "");
  env_["SLURM_GPUS_PER_NODE"] = "a100:4";
  EXPECT_EQ(DetectAcceleratorType(sources_), "A100");
  env_["SLURM_GPUS_PER_TASK"] = "h100:1";  // the most specific request first
  EXPECT_EQ(DetectAcceleratorType(sources_), "H100");
  AddGpu("0000:c1:00.0", "NVIDIA A100-SXM4-40GB");
  AddGpu("0000:41:00.0", "NVIDIA H200");  // lowest bus id first
  EXPECT_EQ(DetectAcceleratorType(sources_), "H200");
}

TEST_F(AcceleratorDetectionTest, MissingFolderIsNoGpu) {
  sources_.nvidia_gpus_dir = (dir_ / "absent").string();
  EXPECT_EQ(DetectAcceleratorType(sources_), "");
}

}  // namespace
}  // namespace prism::runtime
