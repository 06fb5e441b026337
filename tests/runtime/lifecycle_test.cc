// Init/Shutdown as a singleton, and the errors of using Prism at the wrong time or badly
// configured. Runs without mpirun: each Init makes a one-rank cluster.

#include <gtest/gtest.h>
#include <prism/prism.h>
#include <stdlib.h>

#include <fstream>
#include <iterator>
#include <string>
#include <unordered_map>

namespace {

int Twice(int x) { return 2 * x; }

}  // namespace

PRISM_REMOTE(Twice);

namespace {

TEST(LifecycleTest, ApiBeforeInitNamesTheCall) {
  ASSERT_FALSE(prism::IsInitialized());
  try {
    prism::Put(1);
    FAIL() << "expected prism::PrismError";
  } catch (const prism::PrismError& e) {
    EXPECT_NE(std::string(e.what()).find("prism::Put called before prism::Init"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(prism::Task(Twice).Remote(1), prism::PrismError);
  EXPECT_THROW(prism::GetRuntimeContext(), prism::PrismError);
  EXPECT_THROW(prism::ClusterResources(), prism::PrismError);
  prism::Shutdown();  // harmless when not initialised
}

TEST(LifecycleTest, InvalidSettingStopsInitNamingTheVariable) {
  setenv("PRISM_NUM_CPUS", "lots", 1);
  try {
    prism::Init();
    FAIL() << "expected prism::PrismError";
  } catch (const prism::PrismError& e) {
    EXPECT_NE(std::string(e.what()).find("PRISM_NUM_CPUS='lots'"), std::string::npos) << e.what();
  }
  unsetenv("PRISM_NUM_CPUS");
  EXPECT_FALSE(prism::IsInitialized());

  prism::Config config;
  config.system_config["transfer_mode"] = "carrier-pigeon";
  EXPECT_THROW(prism::Init(config), prism::PrismError);
  char arg0[] = "test";
  char arg1[] = "--prism-max_inline_bytes=-5";
  char* argv[] = {arg0, arg1, nullptr};
  EXPECT_THROW(prism::Init(2, argv), prism::PrismError);
  EXPECT_FALSE(prism::IsInitialized());
}

TEST(LifecycleTest, SingletonCanInitAgainAfterShutdown) {
  for (int round = 0; round < 2; ++round) {
    prism::Config config;
    config.job_namespace = "round-" + std::to_string(round);
    prism::Init(config);
    EXPECT_TRUE(prism::IsInitialized());
    EXPECT_EQ(prism::GetNamespace(), config.job_namespace);
    EXPECT_EQ(*prism::Task(Twice).Remote(21).Get(), 42);
    prism::Shutdown();
    EXPECT_FALSE(prism::IsInitialized());
  }
}

TEST(LifecycleTest, RefsOutlivingTheRuntimeAreHarmless) {
  prism::ObjectRef<int> kept;
  prism::Init();
  kept = prism::Put(3);
  prism::Shutdown();
  prism::ObjectRef<int> copy = kept;  // no runtime: counting is a no-op
  EXPECT_THROW(copy.Get(), prism::PrismError);
}

TEST(LifecycleTest, ArgumentsOverrideTheEnvironment) {
  setenv("PRISM_NUM_CPUS", "1", 1);
  char arg0[] = "test";
  char arg1[] = "--prism-num_cpus=3";
  char* argv[] = {arg0, arg1, nullptr};
  prism::Init(2, argv);
  unsetenv("PRISM_NUM_CPUS");
  EXPECT_EQ(prism::ClusterResources().at("CPU"), 3.0);
  // The rank logs its capacity when it is ready.
  std::string session = prism::GetRuntimeContext().GetSessionDir();
  prism::Shutdown();
  std::ifstream log(session + "/logs/rank-0.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("ready: 3 CPU"), std::string::npos) << text;
}

}  // namespace
