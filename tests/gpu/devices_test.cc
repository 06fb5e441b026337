#include "prism/gpu/devices.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace prism::gpu {
namespace {

using Strings = std::vector<std::string>;

bool HasNvidiaDeviceFile() { return std::filesystem::exists("/dev/nvidia0"); }

TEST(DevicesTest, CudaDeviceCountIsZeroWithoutAGpu) {
  int count = CudaDeviceCount();
  EXPECT_GE(count, 0);
  if (!HasNvidiaDeviceFile()) {
    EXPECT_EQ(count, 0);
  }
}

TEST(DevicesTest, CudaDevicePciBusIdFailsCleanlyWithoutAGpu) {
  if (CudaDeviceCount() > 0) GTEST_SKIP() << "a GPU is present";
  auto id = CudaDevicePciBusId(0);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, ErrorCode::kUnavailable) << id.error().ToString();
}

TEST(DevicesTest, CudaDevicePciBusIdOfEveryDeviceParses) {
  int count = CudaDeviceCount();
  if (count == 0) GTEST_SKIP() << "no CUDA device";
  for (int device = 0; device < count; ++device) {
    auto id = CudaDevicePciBusId(device);
    ASSERT_TRUE(id.ok()) << id.error().ToString();
  }
  EXPECT_FALSE(CudaDevicePciBusId(count).ok());
}

TEST(DevicesTest, ParsesIndices) {
  auto devices = ParseVisibleDevices("0,1,3");
  ASSERT_TRUE(devices.ok()) << devices.error().ToString();
  EXPECT_EQ(*devices, (Strings{"0", "1", "3"}));
}

TEST(DevicesTest, CanonicalisesIndicesAndTrimsSpaces) {
  auto devices = ParseVisibleDevices(" 02, 0 ,10");
  ASSERT_TRUE(devices.ok()) << devices.error().ToString();
  EXPECT_EQ(*devices, (Strings{"2", "0", "10"}));
}

TEST(DevicesTest, EmptyAndNoDevFilesMeanNoDevice) {
  auto empty = ParseVisibleDevices("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto no_dev_files = ParseVisibleDevices("NoDevFiles");
  ASSERT_TRUE(no_dev_files.ok());
  EXPECT_TRUE(no_dev_files->empty());
}

TEST(DevicesTest, KeepsUuidsAsOpaqueStrings) {
  auto devices = ParseVisibleDevices(
      "GPU-5f1c0e2a-8d7b-4f3e-9a61-0c2d4e6f8a10,MIG-GPU-5f1c0e2a-8d7b-4f3e-9a61-0c2d4e6f8a10/1/"
      "0,2");
  ASSERT_TRUE(devices.ok()) << devices.error().ToString();
  EXPECT_EQ(*devices, (Strings{"GPU-5f1c0e2a-8d7b-4f3e-9a61-0c2d4e6f8a10",
                               "MIG-GPU-5f1c0e2a-8d7b-4f3e-9a61-0c2d4e6f8a10/1/0", "2"}));
}

TEST(DevicesTest, NegativeIndexEndsTheList) {
  auto hidden = ParseVisibleDevices("-1");
  ASSERT_TRUE(hidden.ok()) << hidden.error().ToString();
  EXPECT_TRUE(hidden->empty());
  auto truncated = ParseVisibleDevices("0,-1,2");
  ASSERT_TRUE(truncated.ok()) << truncated.error().ToString();
  EXPECT_EQ(*truncated, (Strings{"0"}));
}

TEST(DevicesTest, MalformedValuesNameTheVariableAndToken) {
  struct Case {
    const char* value;
    const char* token;
  };
  for (const Case& c :
       {Case{"0,,1", "\"\""}, Case{"0,1,", "\"\""}, Case{"0,abc", "\"abc\""}, Case{"1x", "\"1x\""},
        Case{"GPU-", "\"GPU-\""}, Case{"GPU-12 34", "GPU-12 34"}, Case{"0,1,0", "\"0\""},
        Case{"99999999999", "\"99999999999\""}}) {
    SCOPED_TRACE(c.value);
    auto devices = ParseVisibleDevices(c.value);
    ASSERT_FALSE(devices.ok());
    EXPECT_EQ(devices.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(devices.error().message.find("CUDA_VISIBLE_DEVICES"), std::string::npos);
    EXPECT_NE(devices.error().message.find(c.token), std::string::npos) << devices.error().message;
  }
}

}  // namespace
}  // namespace prism::gpu

namespace prism::gpu {
namespace {

TEST(CudaSetDeviceTest, FailsWithoutADeviceAndRejectsBadOrdinals) {
  int count = CudaDeviceCount();
  if (count == 0) {
    // No CUDA build, no driver (error 35 here) or no device: nothing can be made current.
    Status status = CudaSetDevice(0);
    EXPECT_FALSE(status.ok());
    return;
  }
  EXPECT_TRUE(CudaSetDevice(count - 1).ok());
  Status bad = CudaSetDevice(count);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace prism::gpu
