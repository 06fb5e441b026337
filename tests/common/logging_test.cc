#include "prism/common/logging.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace prism::log {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Each test gets its own directory and leaves logging as it found it (stderr only).
class LoggingTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "prism-logging-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    EXPECT_TRUE(Configure(LogOptions{}).ok());
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path dir_;
};

TEST(ParseLevelTest, KnowsEveryLevelName) {
  const std::pair<const char*, spdlog::level::level_enum> cases[] = {
      {"trace", spdlog::level::trace},       {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},         {"warn", spdlog::level::warn},
      {"warning", spdlog::level::warn},      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [text, level] : cases) {
    auto parsed = ParseLevel(text);
    ASSERT_TRUE(parsed.ok()) << text;
    EXPECT_EQ(*parsed, level) << text;
  }
}

TEST(ParseLevelTest, RejectsUnknownNamesAndSaysWhich) {
  for (const char* bad : {"", "verbose", "INFO", "err", " info"}) {
    auto parsed = ParseLevel(bad);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "'";
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(std::string("'") + bad + "'"), std::string::npos)
        << parsed.error().message;
  }
}

TEST_F(LoggingTest, GetReturnsOneLoggerPerComponent) {
  spdlog::logger& a = Get("component-a");
  EXPECT_EQ(&a, &Get("component-a"));
  EXPECT_NE(&a, &Get("component-b"));
  EXPECT_EQ(a.name(), "component-a");
}

TEST_F(LoggingTest, FileLinesAreTaggedWithRankAndComponent) {
  spdlog::logger& early = Get("early-component");  // exists before Configure
  fs::path file = dir_ / "rank7.log";
  LogOptions options;
  options.rank = 7;
  options.file = file.string();
  options.file_level = spdlog::level::info;
  options.console_level = spdlog::level::off;
  ASSERT_TRUE(Configure(options).ok());
  spdlog::logger& late = Get("late-component");  // created after Configure
  early.info("early line {}", 1);
  late.info("late line {}", 2);
  late.debug("below the file level");
  Flush();
  std::string text = ReadFile(file);
  EXPECT_NE(text.find("[rank 7] [early-component] [info]"), std::string::npos) << text;
  EXPECT_NE(text.find("early line 1"), std::string::npos) << text;
  EXPECT_NE(text.find("[rank 7] [late-component] [info]"), std::string::npos) << text;
  EXPECT_NE(text.find("late line 2"), std::string::npos) << text;
  EXPECT_EQ(text.find("below the file level"), std::string::npos) << text;
}

TEST_F(LoggingTest, FileIsAppendedNotTruncated) {
  fs::path file = dir_ / "append.log";
  std::ofstream(file) << "existing line\n";
  LogOptions options;
  options.rank = 0;
  options.file = file.string();
  options.console_level = spdlog::level::off;
  ASSERT_TRUE(Configure(options).ok());
  Get("append").warn("new line");
  Flush();
  std::string text = ReadFile(file);
  EXPECT_EQ(text.rfind("existing line\n", 0), 0u) << text;
  EXPECT_NE(text.find("new line"), std::string::npos) << text;
}

TEST_F(LoggingTest, UnknownRankHasNoRankTag) {
  fs::path file = dir_ / "norank.log";
  LogOptions options;
  options.file = file.string();
  options.console_level = spdlog::level::off;
  ASSERT_TRUE(Configure(options).ok());
  Get("norank").error("untagged");
  Flush();
  std::string text = ReadFile(file);
  EXPECT_NE(text.find("[norank] [error]"), std::string::npos) << text;
  EXPECT_EQ(text.find("[rank"), std::string::npos) << text;
}

TEST_F(LoggingTest, UnwritableFileIsAnIoErrorAndKeepsThePreviousSinks) {
  fs::path good = dir_ / "good.log";
  LogOptions options;
  options.rank = 1;
  options.file = good.string();
  options.console_level = spdlog::level::off;
  ASSERT_TRUE(Configure(options).ok());

  // A path below a regular file cannot be created, even by root.
  fs::path blocker = dir_ / "not-a-directory";
  std::ofstream(blocker) << "x";
  LogOptions bad = options;
  bad.file = (blocker / "rank1.log").string();
  Status s = Configure(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::kIoError);
  EXPECT_NE(s.error().message.find(bad.file), std::string::npos) << s.ToString();

  Get("after-failure").warn("still logged");
  Flush();
  EXPECT_NE(ReadFile(good).find("still logged"), std::string::npos);
}

TEST_F(LoggingTest, ConsoleGetsLinesAtOrAboveItsLevelWithTheRank) {
  LogOptions options;
  options.rank = 3;
  options.console_level = spdlog::level::warn;
  ASSERT_TRUE(Configure(options).ok());
  testing::internal::CaptureStderr();
  Get("console").warn("shown on stderr");
  Get("console").info("not shown on stderr");
  Flush();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("[rank 3] [console] [warning] shown on stderr"), std::string::npos) << err;
  EXPECT_EQ(err.find("not shown"), std::string::npos) << err;
}

}  // namespace
}  // namespace prism::log
