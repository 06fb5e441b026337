#include "prism/common/ids.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <set>
#include <unordered_set>

namespace prism {
namespace {

constexpr size_t kShards = 16;

TEST(IdsTest, DefaultIdsAreNil) {
  EXPECT_TRUE(JobId{}.IsNil());
  EXPECT_FALSE(JobId{1}.IsNil());
  EXPECT_TRUE(TaskId{}.IsNil());
  EXPECT_FALSE((TaskId{0, 0}).IsNil());
  EXPECT_TRUE(ObjectId{}.IsNil());
  EXPECT_FALSE(ObjectId::ForPut(0, 0).IsNil());
  EXPECT_EQ(kNoRank, -1);
}

TEST(ObjectIdTest, ForPutHasIndexZero) {
  ObjectId id = ObjectId::ForPut(3, 17);
  EXPECT_EQ(id.owner, 3);
  EXPECT_EQ(id.index, 0u);
  EXPECT_EQ(id.seq, 17u);
  EXPECT_TRUE(id.IsPut());
}

TEST(ObjectIdTest, ForReturnNamesItsTask) {
  TaskId task{5, 40};
  ObjectId id = ObjectId::ForReturn(task, 2);
  EXPECT_EQ(id.owner, 5);
  EXPECT_EQ(id.index, 2u);
  EXPECT_EQ(id.seq, 40u);
  EXPECT_FALSE(id.IsPut());
  EXPECT_EQ(id.task(), task);
  EXPECT_NE(ObjectId::ForReturn(task, 1), ObjectId::ForReturn(task, 2));
  EXPECT_NE(ObjectId::ForReturn(task, 1), ObjectId::ForPut(5, 40));
}

TEST(IdsTest, TextForms) {
  EXPECT_EQ(ObjectId::ForReturn(TaskId{3, 17}, 1).ToString(), "obj 3:17.1");
  EXPECT_EQ(ObjectId::ForPut(0, 12).ToString(), "obj 0:12.0");
  EXPECT_EQ((TaskId{3, 17}).ToString(), "task 3:17");
  EXPECT_EQ((TaskId{3, 17}).Hex(), "000000030000000000000011");
  EXPECT_EQ((TaskId{kNoRank, 0}).Hex(), "ffffffff0000000000000000");
  EXPECT_EQ((TaskId{3, 17}).Hex().size(), 24u);
  EXPECT_EQ(JobId{0xabc}.Hex(), "0000000000000abc");
  EXPECT_EQ(JobId{~uint64_t{0}}.Hex(), "ffffffffffffffff");
}

TEST(IdsTest, OrderingIsByOwnerThenIndexThenSequence) {
  EXPECT_LT((ObjectId{1, 9, 9}), (ObjectId{2, 0, 0}));
  EXPECT_LT((ObjectId{1, 0, 9}), (ObjectId{1, 1, 0}));
  EXPECT_LT((ObjectId{1, 1, 0}), (ObjectId{1, 1, 1}));
  EXPECT_LT((TaskId{0, 100}), (TaskId{1, 0}));
  EXPECT_LT(JobId{1}, JobId{2});
  std::map<ObjectId, int> by_id = {{ObjectId{2, 0, 0}, 2}, {ObjectId{1, 0, 5}, 1}};
  EXPECT_EQ(by_id.begin()->second, 1);
}

TEST(IdsTest, MixBitsIsADeterministicBijectionOnASample) {
  static_assert(MixBits(0) == 0);
  static_assert(MixBits(1) != 1);
  std::unordered_set<uint64_t> seen;
  for (uint64_t i = 0; i < 100000; ++i) seen.insert(MixBits(i));
  EXPECT_EQ(seen.size(), 100000u);
}

template <typename Id>
std::array<int, kShards> ShardCounts(const std::vector<Id>& ids) {
  std::array<int, kShards> counts{};
  for (const Id& id : ids) ++counts[std::hash<Id>{}(id) % kShards];
  return counts;
}

// Each of 16 shards gets between 80% and 120% of an even share: with 16 000 ids the expected
// count is 1000 with a standard deviation near 30, so this fails only for a bad hash.
template <typename Id>
void ExpectEvenSpread(const std::vector<Id>& ids) {
  auto counts = ShardCounts(ids);
  double even = static_cast<double>(ids.size()) / kShards;
  for (size_t s = 0; s < kShards; ++s) {
    EXPECT_GT(counts[s], 0.8 * even) << "shard " << s;
    EXPECT_LT(counts[s], 1.2 * even) << "shard " << s;
  }
}

TEST(IdsTest, SequentialPutsSpreadOverShards) {
  std::vector<ObjectId> ids;
  for (uint64_t seq = 0; seq < 16000; ++seq) ids.push_back(ObjectId::ForPut(0, seq));
  ExpectEvenSpread(ids);
}

TEST(IdsTest, ReturnsOfOneTaskSpreadOverShards) {
  std::vector<ObjectId> ids;
  for (uint32_t index = 1; index <= 16000; ++index)
    ids.push_back(ObjectId::ForReturn(TaskId{2, 7}, index));
  ExpectEvenSpread(ids);
}

TEST(IdsTest, SameSequenceOnManyOwnersSpreadsOverShards) {
  std::vector<ObjectId> ids;
  for (Rank owner = 0; owner < 16000; ++owner) ids.push_back(ObjectId::ForPut(owner, 1));
  ExpectEvenSpread(ids);
}

TEST(IdsTest, SequentialTasksSpreadOverShards) {
  std::vector<TaskId> ids;
  for (uint64_t seq = 0; seq < 16000; ++seq) ids.push_back(TaskId{1, seq});
  ExpectEvenSpread(ids);
}

TEST(IdsTest, HashesOfNearbyIdsDiffer) {
  std::unordered_set<size_t> hashes;
  int n = 0;
  for (Rank owner = 0; owner < 8; ++owner) {
    for (uint32_t index = 0; index < 8; ++index) {
      for (uint64_t seq = 0; seq < 64; ++seq) {
        hashes.insert(std::hash<ObjectId>{}(ObjectId{owner, index, seq}));
        ++n;
      }
    }
  }
  EXPECT_EQ(hashes.size(), static_cast<size_t>(n));
}

}  // namespace
}  // namespace prism
