#include "prism/common/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace prism {
namespace {

using Env = std::map<std::string, std::string>;

// An injected environment: only the variables in `env` exist.
std::function<const char*(const char*)> FakeEnv(const Env& env) {
  return [&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

Result<SystemConfig> LoadWith(const Env& env,
                              const std::map<std::string, std::string>& overrides = {}) {
  return SystemConfig::Load(overrides, nullptr, FakeEnv(env));
}

SystemConfig LoadOk(const Env& env, const std::map<std::string, std::string>& overrides = {}) {
  auto config = LoadWith(env, overrides);
  EXPECT_TRUE(config.ok()) << config.error().ToString();
  return config.ok() ? *config : SystemConfig{};
}

void ExpectRejected(const Env& env, const std::string& must_mention_a,
                    const std::string& must_mention_b) {
  auto config = LoadWith(env);
  ASSERT_FALSE(config.ok()) << "accepted " << env.begin()->first << "=" << env.begin()->second;
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(config.error().message.find(must_mention_a), std::string::npos)
      << config.error().message;
  EXPECT_NE(config.error().message.find(must_mention_b), std::string::npos)
      << config.error().message;
}

TEST(SystemConfigTest, DefaultsWithAnEmptyEnvironment) {
  SystemConfig c = LoadOk({});
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.log_console_level, "warn");
  EXPECT_EQ(c.session_root, "");
  EXPECT_EQ(c.num_cpus, -1.0);
  EXPECT_EQ(c.head_cpus, -1.0);
  EXPECT_EQ(c.max_worker_threads, 1024);
  EXPECT_EQ(c.max_inline_bytes, 100 * 1024);
  EXPECT_EQ(c.rma_threshold_bytes, 64 * 1024);
  EXPECT_EQ(c.transfer_mode, "auto");
  EXPECT_EQ(c.progress_spin_us, 100);
  EXPECT_EQ(c.worker_spin_us, 100);
  EXPECT_EQ(c.get_spin_us, 200);
  EXPECT_EQ(c.shutdown_timeout_ms, 10000);
  EXPECT_EQ(c.startup_timeout_ms, 60000);
  EXPECT_TRUE(c.peer_failure_detection);
  EXPECT_TRUE(c.Validate().ok());
}

TEST(SystemConfigTest, InjectedEnvironmentIsTheOnlySourceRead) {
  std::vector<std::string> asked;
  auto config = SystemConfig::Load({}, nullptr, [&asked](const char* name) -> const char* {
    asked.emplace_back(name);
    return nullptr;
  });
  ASSERT_TRUE(config.ok());
  std::vector<std::string> expected;
  for (const std::string& name : ConfigNames()) expected.push_back(ConfigEnvName(name));
  EXPECT_EQ(asked, expected);
}

TEST(SystemConfigTest, ParsesIntegers) {
  EXPECT_EQ(LoadOk({{"PRISM_MAX_INLINE_BYTES", "4096"}}).max_inline_bytes, 4096);
  EXPECT_EQ(LoadOk({{"PRISM_MAX_INLINE_BYTES", "0"}}).max_inline_bytes, 0);
  EXPECT_EQ(LoadOk({{"PRISM_STARTUP_TIMEOUT_MS", "9223372036854775807"}}).startup_timeout_ms,
            9223372036854775807LL);
  EXPECT_EQ(LoadOk({{"PRISM_MAX_WORKER_THREADS", "+8"}}).max_worker_threads, 8);
}

TEST(SystemConfigTest, RejectsBadIntegersNamingVariableAndValue) {
  for (const char* bad : {"12abc", "", "1.5", "0x10", "abc", "99999999999999999999", "12 "}) {
    SCOPED_TRACE(std::string("value '") + bad + "'");
    ExpectRejected({{"PRISM_MAX_INLINE_BYTES", bad}}, "PRISM_MAX_INLINE_BYTES",
                   std::string("'") + bad + "'");
  }
}

TEST(SystemConfigTest, ParsesDoubles) {
  EXPECT_EQ(LoadOk({{"PRISM_NUM_CPUS", "2.5"}}).num_cpus, 2.5);
  EXPECT_EQ(LoadOk({{"PRISM_NUM_CPUS", "1e1"}}).num_cpus, 10.0);
  EXPECT_EQ(LoadOk({{"PRISM_HEAD_CPUS", "0"}}).head_cpus, 0.0);
}

TEST(SystemConfigTest, RejectsBadDoublesNamingVariableAndValue) {
  for (const char* bad : {"nan", "inf", "-inf", "two", "", "1.5x", "1e999"}) {
    SCOPED_TRACE(std::string("value '") + bad + "'");
    ExpectRejected({{"PRISM_NUM_CPUS", bad}}, "PRISM_NUM_CPUS", std::string("'") + bad + "'");
  }
}

TEST(SystemConfigTest, ParsesBooleansCaseInsensitively) {
  for (const char* yes : {"1", "true", "TRUE", "Yes", "on"}) {
    Env env = {{"PRISM_PEER_FAILURE_DETECTION", yes}};
    EXPECT_TRUE(LoadOk(env).peer_failure_detection) << yes;
  }
  for (const char* no : {"0", "false", "False", "NO", "off"}) {
    Env env = {{"PRISM_PEER_FAILURE_DETECTION", no}};
    EXPECT_FALSE(LoadOk(env).peer_failure_detection) << no;
  }
}

TEST(SystemConfigTest, RejectsBadBooleansNamingVariableAndValue) {
  for (const char* bad : {"2", "", "maybe", "yes please"}) {
    SCOPED_TRACE(std::string("value '") + bad + "'");
    ExpectRejected({{"PRISM_PEER_FAILURE_DETECTION", bad}}, "PRISM_PEER_FAILURE_DETECTION",
                   std::string("'") + bad + "'");
  }
}

TEST(SystemConfigTest, StringsAreTakenVerbatim) {
  SystemConfig c =
      LoadOk({{"PRISM_SESSION_ROOT", "/scratch/my dir"}, {"PRISM_TRANSFER_MODE", "am"}});
  EXPECT_EQ(c.session_root, "/scratch/my dir");
  EXPECT_EQ(c.transfer_mode, "am");
}

TEST(SystemConfigTest, OverridesBeatTheEnvironment) {
  Env env = {{"PRISM_MAX_INLINE_BYTES", "1"}, {"PRISM_TRANSFER_MODE", "get"}};
  SystemConfig env_only = LoadOk(env);
  EXPECT_EQ(env_only.max_inline_bytes, 1);
  EXPECT_EQ(env_only.transfer_mode, "get");
  SystemConfig both = LoadOk(env, {{"max_inline_bytes", "2"}});
  EXPECT_EQ(both.max_inline_bytes, 2);
  EXPECT_EQ(both.transfer_mode, "get");  // not overridden: the environment's value stays
}

TEST(SystemConfigTest, OverrideNamesMayUseDashes) {
  EXPECT_EQ(LoadOk({}, {{"max-inline-bytes", "7"}}).max_inline_bytes, 7);
}

TEST(SystemConfigTest, AnOverrideCanRepairAnEnvironmentValueThatValidateRejects) {
  // Validation looks at the final values only.
  EXPECT_EQ(LoadOk({{"PRISM_TRANSFER_MODE", "rdma"}}, {{"transfer_mode", "am"}}).transfer_mode,
            "am");
}

TEST(SystemConfigTest, RejectsUnknownOverrideNames) {
  auto config = LoadWith({}, {{"no_such_setting", "1"}});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(config.error().message.find("no_such_setting"), std::string::npos)
      << config.error().message;
  EXPECT_FALSE(LoadWith({}, {{"PRISM_NUM_CPUS", "1"}}).ok()) << "overrides take setting names";
}

TEST(SystemConfigTest, BadOverrideValueNamesSettingAndValue) {
  auto config = LoadWith({}, {{"num_cpus", "lots"}});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find("num_cpus"), std::string::npos) << config.error().message;
  EXPECT_NE(config.error().message.find("'lots'"), std::string::npos) << config.error().message;
}

TEST(SystemConfigTest, ValidateTransferMode) {
  for (const char* good : {"auto", "get", "am"}) {
    EXPECT_EQ(LoadOk({{"PRISM_TRANSFER_MODE", good}}).transfer_mode, good);
  }
  ExpectRejected({{"PRISM_TRANSFER_MODE", "rdma"}}, "PRISM_TRANSFER_MODE", "'rdma'");
  ExpectRejected({{"PRISM_TRANSFER_MODE", "AM"}}, "PRISM_TRANSFER_MODE", "'AM'");
  ExpectRejected({{"PRISM_TRANSFER_MODE", ""}}, "PRISM_TRANSFER_MODE", "''");
}

TEST(SystemConfigTest, ValidateLogLevels) {
  for (const char* good :
       {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}) {
    EXPECT_EQ(LoadOk({{"PRISM_LOG_LEVEL", good}}).log_level, good);
    EXPECT_EQ(LoadOk({{"PRISM_LOG_CONSOLE_LEVEL", good}}).log_console_level, good);
  }
  ExpectRejected({{"PRISM_LOG_LEVEL", "verbose"}}, "PRISM_LOG_LEVEL", "'verbose'");
  ExpectRejected({{"PRISM_LOG_CONSOLE_LEVEL", "loud"}}, "PRISM_LOG_CONSOLE_LEVEL", "'loud'");
  ExpectRejected({{"PRISM_LOG_LEVEL", "INFO"}}, "PRISM_LOG_LEVEL", "'INFO'");
}

TEST(SystemConfigTest, ValidateRanges) {
  EXPECT_EQ(LoadOk({{"PRISM_NUM_CPUS", "-1"}}).num_cpus, -1.0);
  ExpectRejected({{"PRISM_NUM_CPUS", "-0.5"}}, "PRISM_NUM_CPUS", "-0.5");
  ExpectRejected({{"PRISM_HEAD_CPUS", "-2"}}, "PRISM_HEAD_CPUS", "-2");
  ExpectRejected({{"PRISM_MAX_WORKER_THREADS", "0"}}, "PRISM_MAX_WORKER_THREADS", ">= 1");
  EXPECT_EQ(LoadOk({{"PRISM_MAX_WORKER_THREADS", "1"}}).max_worker_threads, 1);
  ExpectRejected({{"PRISM_MAX_INLINE_BYTES", "-1"}}, "PRISM_MAX_INLINE_BYTES", ">= 0");
  ExpectRejected({{"PRISM_RMA_THRESHOLD_BYTES", "-1"}}, "PRISM_RMA_THRESHOLD_BYTES", ">= 0");
  ExpectRejected({{"PRISM_GET_SPIN_US", "-1"}}, "SPIN_US", ">= 0");
  ExpectRejected({{"PRISM_PROGRESS_SPIN_US", "-1"}}, "SPIN_US", ">= 0");
  ExpectRejected({{"PRISM_SHUTDOWN_TIMEOUT_MS", "99"}}, "PRISM_SHUTDOWN_TIMEOUT_MS", ">= 100");
  ExpectRejected({{"PRISM_STARTUP_TIMEOUT_MS", "0"}}, "PRISM_STARTUP_TIMEOUT_MS", ">= 100");
  EXPECT_EQ(LoadOk({{"PRISM_SHUTDOWN_TIMEOUT_MS", "100"}}).shutdown_timeout_ms, 100);
}

TEST(SystemConfigTest, ValidateChecksAStructBuiltByHand) {
  SystemConfig c;
  EXPECT_TRUE(c.Validate().ok());
  c.transfer_mode = "fast";
  Status s = c.Validate();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("PRISM_TRANSFER_MODE"), std::string::npos) << s.ToString();
}

TEST(SystemConfigTest, SetParsesByNameAndNamesTheOrigin) {
  SystemConfig c;
  EXPECT_TRUE(c.Set("max_inline_bytes", "33", "test").ok());
  EXPECT_EQ(c.max_inline_bytes, 33);
  Status bad = c.Set("max_inline_bytes", "x", "--prism-max-inline-bytes");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("--prism-max-inline-bytes"), std::string::npos)
      << bad.ToString();
  EXPECT_EQ(c.max_inline_bytes, 33);  // a failed Set leaves the value alone
  Status unknown = c.Set("bogus", "1", "here");
  EXPECT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("bogus"), std::string::npos) << unknown.ToString();
}

TEST(SystemConfigTest, NamesAndEnvironmentNames) {
  EXPECT_EQ(ConfigEnvName("num_cpus"), "PRISM_NUM_CPUS");
  EXPECT_EQ(ConfigEnvName("log_console_level"), "PRISM_LOG_CONSOLE_LEVEL");
  const auto& names = ConfigNames();
  for (const char* known :
       {"log_level", "num_cpus", "max_inline_bytes", "transfer_mode", "peer_failure_detection"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), known), names.end()) << known;
  }
  EXPECT_EQ(names.front(), "log_level");  // definition order
  std::vector<std::string> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "duplicate names";
  SystemConfig c;
  for (const std::string& name : names) {
    // Every listed name is settable: "1" parses as each type (string, integer, double, bool).
    EXPECT_TRUE(c.Set(name, "1", "probe").ok()) << name;
  }
}

TEST(SystemConfigTest, DescribeListsEveryTunableWithItsValue) {
  SystemConfig c =
      LoadOk({{"PRISM_MAX_INLINE_BYTES", "5"}, {"PRISM_PEER_FAILURE_DETECTION", "off"}});
  std::string d = c.Describe();
  for (const std::string& name : ConfigNames()) {
    EXPECT_NE(d.find(name + "="), std::string::npos) << name;
  }
  EXPECT_NE(d.find("max_inline_bytes=5\n"), std::string::npos) << d;
  EXPECT_NE(d.find("peer_failure_detection=false\n"), std::string::npos) << d;
  EXPECT_NE(d.find("transfer_mode=auto\n"), std::string::npos) << d;
}

TEST(SystemConfigTest, UnknownPrismVariablesInTheProcessEnvironmentAreWarnedAbout) {
  ASSERT_EQ(setenv("PRISM_NO_SUCH_TUNABLE", "1", 1), 0);
  ASSERT_EQ(setenv("PRISM_TEST_SOMETHING", "1", 1), 0);
  std::vector<std::string> warnings;
  auto config = SystemConfig::Load({}, &warnings);
  unsetenv("PRISM_NO_SUCH_TUNABLE");
  unsetenv("PRISM_TEST_SOMETHING");
  ASSERT_TRUE(config.ok()) << config.error().ToString();
  int mentions = 0;
  for (const std::string& w : warnings) {
    if (w.find("PRISM_NO_SUCH_TUNABLE") != std::string::npos) ++mentions;
    EXPECT_EQ(w.find("PRISM_TEST_SOMETHING"), std::string::npos) << w;
  }
  EXPECT_EQ(mentions, 1);
}

}  // namespace
}  // namespace prism
