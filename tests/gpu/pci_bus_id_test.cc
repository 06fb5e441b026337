#include "prism/gpu/pci_bus_id.h"

#include <gtest/gtest.h>

#include <string>

namespace prism::gpu {
namespace {

TEST(PciBusIdTest, ParsesWhatHwlocCudaAndNvidiaSmiPrint) {
  for (const char* text : {"0000:c1:00.0", "0000:C1:00.0", "00000000:C1:00.0", "c1:00.0"}) {
    SCOPED_TRACE(text);
    auto id = PciBusId::Parse(text);
    ASSERT_TRUE(id.ok()) << id.error().ToString();
    EXPECT_EQ(id->ToString(), "0000:c1:00.0");
    EXPECT_EQ(id->bus, 0xc1);
  }
}

TEST(PciBusIdTest, KeepsDomainDeviceAndFunction) {
  auto id = PciBusId::Parse("0001:41:1f.7");
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  EXPECT_EQ(id->domain, 1u);
  EXPECT_EQ(id->device, 0x1f);
  EXPECT_EQ(id->function, 7);
  EXPECT_EQ(id->ToString(), "0001:41:1f.7");
}

TEST(PciBusIdTest, OrdersByAddress) {
  EXPECT_LT(PciBusId::Parse("0000:41:00.0").value(), PciBusId::Parse("0000:c1:00.0").value());
  EXPECT_LT(PciBusId::Parse("0000:ff:00.0").value(), PciBusId::Parse("0001:00:00.0").value());
}

TEST(PciBusIdTest, RejectsMalformedIds) {
  for (const char* text : {"", "41", "41:00", "0000:41:00", "0000:141:00.0", "0000:41:20.0",
                           "0000:41:00.8", "zz:00.0", "0000:41:00.0.1", "000000000:41:00.0"}) {
    SCOPED_TRACE(text);
    auto id = PciBusId::Parse(text);
    ASSERT_FALSE(id.ok());
    EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(id.error().message.find(std::string("\"") + text + "\""), std::string::npos);
  }
}

}  // namespace
}  // namespace prism::gpu
