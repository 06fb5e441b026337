// Runtime internals that need no cluster: resources, wire messages (the cluster view and the
// worker pool's ledger: scheduling_internals_test.cc).

#include <gtest/gtest.h>

#include <random>

#include "messages.h"
#include "prism/objstore/buffer_pool.h"
#include "prism/runtime/remote.h"
#include "resources.h"

namespace prism::runtime {
namespace {

TEST(ResourceSetTest, FixedPointAndTheSeedsRules) {
  ResourceSet r;
  EXPECT_TRUE(r.Set("CPU", 0.5));
  EXPECT_TRUE(r.Set("GPU", 0.0001));
  EXPECT_TRUE(r.Set("CPU", 4));
  EXPECT_EQ(r.Units("CPU"), 4 * kResourceUnit);
  EXPECT_EQ(r.Units("GPU"), 1);
  EXPECT_FALSE(r.Set("CPU", 1.5));  // above 1: whole numbers only
  EXPECT_FALSE(r.Set("CPU", -1));
  EXPECT_FALSE(r.Set("CPU", 0.00001));  // finer than 0.0001
  EXPECT_FALSE(r.Set("", 1));
  auto bad = r.Set("memory", 2.5);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("memory"), std::string::npos);
}

TEST(ResourceSetTest, FitsInNamesTheMissingResource) {
  ResourceSet capacity, demand;
  ASSERT_TRUE(capacity.Set("CPU", 2));
  ASSERT_TRUE(demand.Set("CPU", 1));
  EXPECT_TRUE(demand.FitsIn(capacity));
  ASSERT_TRUE(demand.Set("GPU", 1));
  std::string missing;
  EXPECT_FALSE(demand.FitsIn(capacity, &missing));
  EXPECT_EQ(missing, "GPU");
}

TEST(MessagesTest, TaskSpecRoundTrip) {
  auto pool = objstore::BufferPool::Create({});
  TaskSpec spec;
  spec.id = TaskId{3, 99};
  spec.function = "Simulate";
  spec.name = "run-7";
  ASSERT_TRUE(spec.resources.Set("CPU", 2));
  spec.placement_group = PlacementGroupId{2, 5};
  spec.bundle_index = 1;
  spec.capture_child_tasks = true;
  spec.spillbacks = 3;
  spec.spillable = true;
  ArgSpec inline_arg;
  std::byte meta[2] = {std::byte{1}, std::byte{2}};
  std::byte data[3] = {std::byte{7}, std::byte{8}, std::byte{9}};
  inline_arg.value = objstore::ObjectBuffer::CopyOf(pool, meta, data);
  ArgSpec ref_arg;
  ref_arg.id = ObjectId{1, 2, 3};
  ref_arg.location = 4;
  spec.args = {inline_arg, ref_arg};
  auto decoded = DecodeTaskSpec(EncodeTaskSpec(spec), pool);
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->id, spec.id);
  EXPECT_EQ(decoded->function, "Simulate");
  EXPECT_EQ(decoded->name, "run-7");
  EXPECT_EQ(decoded->resources.Units("CPU"), 2 * kResourceUnit);
  EXPECT_EQ(decoded->placement_group, spec.placement_group);
  EXPECT_EQ(decoded->bundle_index, 1);
  EXPECT_TRUE(decoded->capture_child_tasks);
  EXPECT_EQ(decoded->spillbacks, 3u);
  EXPECT_TRUE(decoded->spillable);
  ASSERT_EQ(decoded->args.size(), 2u);
  ASSERT_TRUE(decoded->args[0].value);
  EXPECT_EQ(decoded->args[0].value->size(), 3u);
  EXPECT_EQ(decoded->args[0].value->data()[2], std::byte{9});
  EXPECT_EQ(decoded->args[1].id, ref_arg.id);
  EXPECT_EQ(decoded->args[1].location, 4);
}

TEST(MessagesTest, EveryTruncationOfEveryMessageIsRejected) {
  auto pool = objstore::BufferPool::Create({});
  TaskSpec spec;
  spec.id = TaskId{0, 1};
  spec.function = "f";
  ArgSpec a;
  a.id = ObjectId{0, 1, 1};
  a.location = 0;
  spec.args = {a};
  TaskResult result;
  result.id = TaskId{0, 1};
  result.stored_size = 10;
  ObjectStatus status;
  status.id = ObjectId{0, 0, 5};
  status.kind = ObjectStatus::kLocated;
  status.location = 1;
  ObjectId ids[2] = {ObjectId{0, 1, 2}, ObjectId{1, 0, 3}};
  ResourceReport report;
  report.seq = 4;
  ASSERT_TRUE(report.total.Set("CPU", 2));
  report.available.SetUnits("CPU", -kResourceUnit);  // a blocked task took its CPU back
  report.waiting = 2;
  std::vector<std::vector<std::byte>> messages = {
      EncodeTaskSpec(spec), EncodeTaskResult(result),     EncodeObjectStatus(status),
      EncodeObjectIds(ids), EncodeResourceReport(report), EncodeSpillback({TaskId{1, 2}, 3})};
  auto round = DecodeResourceReport(messages[4]);
  ASSERT_TRUE(round) << round.error().ToString();
  EXPECT_EQ(round->seq, 4u);
  EXPECT_EQ(round->available.Units("CPU"), -kResourceUnit);
  EXPECT_EQ(round->waiting, 2);
  for (size_t m = 0; m < messages.size(); ++m) {
    const auto& full = messages[m];
    for (size_t cut = 0; cut < full.size(); ++cut) {
      std::span<const std::byte> part(full.data(), cut);
      bool accepted = m == 0   ? DecodeTaskSpec(part, pool).ok()
                      : m == 1 ? DecodeTaskResult(part, pool).ok()
                      : m == 2 ? DecodeObjectStatus(part, pool).ok()
                      : m == 3 ? DecodeObjectIds(part).ok()
                      : m == 4 ? DecodeResourceReport(part).ok()
                               : DecodeSpillback(part).ok();
      EXPECT_FALSE(accepted) << "message " << m << " cut at " << cut;
    }
  }
}

TEST(MessagesTest, RandomBytesNeverCrashADecoder) {
  auto pool = objstore::BufferPool::Create({});
  std::mt19937 rng(7);
  int accepted = 0;
  for (int i = 0; i < 20'000; ++i) {
    std::vector<std::byte> bytes(rng() % 96);
    for (auto& b : bytes) b = static_cast<std::byte>(rng());
    accepted += DecodeTaskSpec(bytes, pool).ok() + DecodeTaskResult(bytes, pool).ok() +
                DecodeObjectStatus(bytes, pool).ok() + DecodeObjectIds(bytes).ok() +
                DecodeResourceReport(bytes).ok() + DecodeSpillback(bytes).ok();
  }
  // Random input almost never forms a valid message; what matters is that none crashed.
  EXPECT_LT(accepted, 200);
}

TEST(RemoteNamesTest, SplitsTheMacroArgumentList) {
  auto names = internal::SplitRemoteNames(" f, ns::g ,&C::m, h<int, 2>");
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names[0], "f");
  EXPECT_EQ(names[1], "ns::g");
  EXPECT_EQ(names[2], "C::m");
  EXPECT_EQ(names[3], "h<int, 2>");
}

}  // namespace
}  // namespace prism::runtime
