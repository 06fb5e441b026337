#include "json_writer.h"

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

namespace prism::bench {
namespace {

TEST(JsonWriterTest, WritesOptionalFieldsOnlyWhenSet) {
  Record plain = MakeRecord("a", Summarize({1.0}), "s");
  Record full = MakeRecord("init_seconds", Summarize({2.0}), "s");
  full.ranks = 64;
  full.baseline_name = "mpi_init_seconds";
  full.baseline_value = 4.0;
  full.note = "say \"why\"";
  std::ostringstream out;
  WriteJson(out, {plain, full});
  const std::string text = out.str();
  EXPECT_EQ(text.find("\"ranks\""), text.rfind("\"ranks\""));  // only the second record
  EXPECT_NE(text.find("\"baseline_value\": 4, \"ranks\": 64, \"note\": \"say \\\"why\\\"\"}"),
            std::string::npos)
      << text;
}

TEST(JsonWriterTest, WritesNonFiniteNumbersAsNull) {
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(JsonNumber(0.5), "0.5");
}

}  // namespace
}  // namespace prism::bench
