// Multi-rank tests of the collectives: rank 0 (the driver) runs the cases; the group members are
// actors spread over the ranks (several per rank in the sharing cases).

#include <gtest/gtest.h>
#include <prism/collective/collective.h>
#include <prism/prism.h>

#include <algorithm>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "collective_checks.h"

namespace coll = prism::collective;

namespace {

class Peer {
 public:
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }
  std::string Join(int world, int index, std::string group, int64_t timeout_ms, bool shm_streams) {
    try {
      coll::GroupOptions options;
      options.timeout_ms = timeout_ms;
      options.shm_streams = shm_streams;
      coll::InitGroup(world, index, coll::Backend::kUcx, group, options);
      if (coll::GetRank(group) != index || coll::GetWorldSize(group) != world) {
        return "GetRank/GetWorldSize disagree with InitGroup";
      }
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  std::string Check(std::string group, std::vector<int64_t> counts, bool all_types) {
    return coll::testing::CheckAll(group, counts, all_types);
  }
  std::string Large(std::string group, int64_t bytes) {
    return coll::testing::CheckLarge(group, bytes);
  }
  std::string Destroy(std::string group) {
    try {
      coll::DestroyGroup(group);
      if (coll::IsGroupInitialized(group)) return "still a member after DestroyGroup";
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  // Async operations on two groups at once; checks both results.
  std::string TwoGroups(std::string a, std::string b, int64_t count) {
    try {
      int wa = coll::GetWorldSize(a);
      int wb = coll::GetWorldSize(b);
      std::vector<int64_t> x(static_cast<size_t>(count), coll::GetRank(a) + 1);
      std::vector<int64_t> y(static_cast<size_t>(count), 10 * (coll::GetRank(b) + 1));
      coll::Work wx = coll::AllReduceAsync(std::span<int64_t>(x), coll::ReduceOp::kSum, a);
      coll::Work wy = coll::AllReduceAsync(std::span<int64_t>(y), coll::ReduceOp::kSum, b);
      wy.Wait();
      wx.Wait();
      int64_t want_x = int64_t{wa} * (wa + 1) / 2;
      int64_t want_y = 10 * int64_t{wb} * (wb + 1) / 2;
      for (size_t i = 0; i < x.size(); ++i) {
        if (x[i] != want_x) return "group " + a + ": wrong sum " + std::to_string(x[i]);
        if (y[i] != want_y) return "group " + b + ": wrong sum " + std::to_string(y[i]);
      }
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  // Calls AllReduce with a count that differs per member: must raise, not return garbage.
  std::string Mismatched(std::string group) {
    std::vector<float> v(static_cast<size_t>(10 + 10 * coll::GetRank(group)), 1.0F);
    try {
      coll::AllReduce(v, coll::ReduceOp::kSum, group);
    } catch (const coll::CollectiveError& e) {
      return std::string("raised: ") + e.what();
    }
    return "returned";
  }
  // The same with buffers large enough for the RMA algorithms (2 MiB and up), for AllReduce,
  // AllGather and Broadcast in turn; "raised: ..." three times when right.
  std::string MismatchedLarge(std::string group) {
    const size_t count = 600'000 + 1000 * static_cast<size_t>(coll::GetRank(group));
    std::string out;
    std::vector<float> v(count, 1.0F);
    std::vector<float> all(count * static_cast<size_t>(coll::GetWorldSize(group)));
    for (int which = 0; which < 3; ++which) {
      try {
        if (which == 0) coll::AllReduce(v, coll::ReduceOp::kSum, group);
        if (which == 1) coll::AllGather(std::span<const float>(v), std::span<float>(all), group);
        if (which == 2) coll::Broadcast(v, 0, group);
        out += "returned;";
      } catch (const coll::CollectiveError& e) {
        out += std::string("raised: ") + e.what() + ";";
      }
    }
    return out;
  }
  // Large Broadcasts and AllGathers back to back (on one host: through the shared-memory
  // outboxes, whose counts must stay in step between operations and members): a Broadcast from
  // every root in turn, whose root scribbles over its buffer as soon as the call returns (it must
  // be free then); an in-place AllGather (the send block is the member's own block of the
  // result); async forms queued two at a time. `count` floats per buffer.
  std::string Streams(std::string group, int64_t count) {
    try {
      const int w = coll::GetWorldSize(group);
      const int me = coll::GetRank(group);
      const auto n = static_cast<size_t>(count);
      auto value = [](int member, size_t i, int round) {
        return static_cast<float>((member + 1) * 1000 + round) + static_cast<float>(i % 977);
      };
      for (int round = 0; round < 2; ++round) {
        for (int root = 0; root < w; ++root) {
          std::vector<float> buf(n, -1.0F);
          if (me == root) {
            for (size_t i = 0; i < n; ++i) buf[i] = value(root, i, round);
          }
          coll::Broadcast(buf, root, group);
          if (me == root) std::fill(buf.begin(), buf.end(), -7.0F);
          coll::Barrier(group);
          for (size_t i = 0; me != root && i < n; ++i) {
            if (buf[i] != value(root, i, round)) {
              return "Broadcast from " + std::to_string(root) + ": element " + std::to_string(i) +
                     " is " + std::to_string(buf[i]);
            }
          }
        }
        std::vector<float> all(n * static_cast<size_t>(w), -1.0F);
        std::span<float> own(all.data() + n * static_cast<size_t>(me), n);
        for (size_t i = 0; i < n; ++i) own[i] = value(me, i, round);
        coll::AllGather(std::span<const float>(own), std::span<float>(all), group);
        std::vector<float> a(n, static_cast<float>(me)), b(n, static_cast<float>(-me));
        std::vector<float> all_a(n * static_cast<size_t>(w)), all_b(n * static_cast<size_t>(w));
        coll::Work wa =
            coll::AllGatherAsync(std::span<const float>(a), std::span<float>(all_a), group);
        coll::Work wb =
            coll::AllGatherAsync(std::span<const float>(b), std::span<float>(all_b), group);
        wa.Wait();
        wb.Wait();
        for (int j = 0; j < w; ++j) {
          for (size_t i = 0; i < n; ++i) {
            size_t at = static_cast<size_t>(j) * n + i;
            if (all[at] != value(j, i, round) || all_a[at] != static_cast<float>(j) ||
                all_b[at] != static_cast<float>(-j)) {
              return "AllGather: block " + std::to_string(j) + " element " + std::to_string(i) +
                     " is " + std::to_string(all[at]) + " / " + std::to_string(all_a[at]) + " / " +
                     std::to_string(all_b[at]);
            }
          }
        }
      }
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  // Rank and size of a group this actor may only know through CreateGroup.
  std::vector<int> Info(std::string group) {
    return {coll::GetRank(group), coll::GetWorldSize(group)};
  }
};

Peer* CreatePeer() { return new Peer(); }

}  // namespace

PRISM_REMOTE(CreatePeer, &Peer::Rank, &Peer::Join, &Peer::Check, &Peer::Large, &Peer::Destroy,
             &Peer::TwoGroups, &Peer::Mismatched, &Peer::MismatchedLarge, &Peer::Streams,
             &Peer::Info);

namespace {

using Peers = std::vector<prism::ActorHandle<Peer>>;
constexpr int64_t kWaitMs = 240'000;

int Ranks() { return prism::GetRuntimeContext().GetWorldSize(); }

Peers MakePeers(int n) {
  Peers peers;
  for (int i = 0; i < n; ++i) peers.push_back(prism::Actor(CreatePeer).Remote());
  return peers;
}

// Every member joins `group` (member i = peers[i]); members below `no_streams_below` opt out of
// the shared-memory outboxes (GroupOptions::shm_streams).
void JoinAll(const Peers& peers, const std::string& group, int64_t timeout_ms = -1,
             int no_streams_below = 0) {
  std::vector<prism::ObjectRef<std::string>> refs;
  int w = static_cast<int>(peers.size());
  for (int i = 0; i < w; ++i) {
    refs.push_back(peers[static_cast<size_t>(i)]
                       .Task(&Peer::Join)
                       .Remote(w, i, group, timeout_ms, i >= no_streams_below));
  }
  for (auto& r : prism::Get(refs, kWaitMs)) EXPECT_EQ(*r, "");
}

template <typename M, typename... A>
void ExpectAllEmpty(const Peers& peers, M method, A... args) {
  std::vector<prism::ObjectRef<std::string>> refs;
  for (const auto& p : peers) refs.push_back(p.Task(method).Remote(args...));
  int i = 0;
  for (auto& r : prism::Get(refs, kWaitMs)) EXPECT_EQ(*r, "") << "member " << i++;
}

TEST(Collective, EveryOperationOpAndTypeAgainstASerialReference) {
  Peers peers = MakePeers(Ranks());
  JoinAll(peers, "matrix");
  // 1 element .. past the small-message limit (64 KiB) for every type and op.
  ExpectAllEmpty(peers, &Peer::Check, std::string("matrix"),
                 std::vector<int64_t>{1, 3, 17, 1000, 20011}, true);
  // Pipelined ring sizes (several chunks per segment).
  ExpectAllEmpty(peers, &Peer::Check, std::string("matrix"),
                 std::vector<int64_t>{1 << 20, 3'000'017}, false);
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("matrix"));
}

TEST(Collective, SixtyFourMebibytes) {
  Peers peers = MakePeers(Ranks());
  JoinAll(peers, "big");
  ExpectAllEmpty(peers, &Peer::Large, std::string("big"), int64_t{64} << 20);
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("big"));
}

TEST(Collective, MembersSharingRanks) {
  Peers peers = MakePeers(2 * Ranks() + 1);
  std::set<int> ranks;
  for (auto& p : peers) ranks.insert(p.rank());
  ASSERT_LT(ranks.size(), peers.size());  // some rank hosts several members
  JoinAll(peers, "shared");
  ExpectAllEmpty(peers, &Peer::Check, std::string("shared"), std::vector<int64_t>{1, 100, 70001},
                 false);
  ExpectAllEmpty(peers, &Peer::Large, std::string("shared"), int64_t{4} << 20);
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("shared"));
}

// One member per rank, all on this host: small messages go through the shared-memory inboxes
// (shm_inbox.h), AllReduce, Broadcast and AllGather of 2 MiB and more take the RMA algorithms
// (rma_algorithms.h), the rest the transport's messages.
// One actor on each rank (so the members live in distinct processes of this host).
Peers OnePerRank() {
  Peers peers;
  std::set<int> ranks;
  for (int attempt = 0; attempt < 50 * Ranks() && static_cast<int>(peers.size()) < Ranks();
       ++attempt) {
    auto a = prism::Actor(CreatePeer).Remote();
    if (ranks.insert(a.rank()).second) peers.push_back(a);
  }
  EXPECT_EQ(static_cast<int>(peers.size()), Ranks()) << "could not place one member per rank";
  return peers;
}

// Sizes that differ between members raise on every member (AllReduce, AllGather, Broadcast).
void ExpectMismatchesRaise(const Peers& peers, const std::string& group) {
  std::vector<prism::ObjectRef<std::string>> refs;
  for (auto& p : peers) refs.push_back(p.Task(&Peer::MismatchedLarge).Remote(group));
  for (auto& r : prism::Get(refs, kWaitMs)) {
    EXPECT_EQ(r->find("returned"), std::string::npos) << *r;
    EXPECT_NE(r->find("raised: "), std::string::npos) << *r;
  }
}

TEST(Collective, OneMemberPerRankOnOneHost) {
  Peers peers = OnePerRank();
  ASSERT_EQ(static_cast<int>(peers.size()), Ranks());
  JoinAll(peers, "per-rank", /*timeout_ms=*/60'000);
  // Every type and op through the shared-memory inbox (small), the outboxes (AllReduce from
  // 8 KiB: 5 000 and 100 003 elements, 600 001 of 4 bytes) and the RMA algorithm (AllReduce from
  // 4 MiB: 600 001 elements of 8 bytes).
  ExpectAllEmpty(peers, &Peer::Check, std::string("per-rank"),
                 std::vector<int64_t>{1, 17, 1000, 5000, 100'003, 600'001}, true);
  ExpectAllEmpty(peers, &Peer::Check, std::string("per-rank"),
                 std::vector<int64_t>{1 << 20, 3'000'017}, false);
  ExpectAllEmpty(peers, &Peer::Large, std::string("per-rank"), int64_t{64} << 20);
  // Back-to-back streamed Broadcasts (from 2 MiB) and AllGathers (from a 32 MiB result): 600 001
  // floats (streamed Broadcasts, AllGathers reading the others' buffers), a whole number of
  // 256 KiB chunks per member, and a result just over 32 MiB (not a whole number of chunks).
  const int64_t w = Ranks();
  ExpectAllEmpty(peers, &Peer::Streams, std::string("per-rank"), int64_t{600'001});
  ExpectAllEmpty(peers, &Peer::Streams, std::string("per-rank"), 65'536 * ((128 + w - 1) / w));
  ExpectAllEmpty(peers, &Peer::Streams, std::string("per-rank"), (int64_t{8} << 20) / w + 1);
  // Sizes that differ between members raise on every member, and the group still works after.
  ExpectMismatchesRaise(peers, "per-rank");
  ExpectAllEmpty(peers, &Peer::Large, std::string("per-rank"), int64_t{1} << 20);
  ExpectAllEmpty(peers, &Peer::Streams, std::string("per-rank"), int64_t{600'001});
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("per-rank"));
}

// Without outboxes (member 0 opted out, so every member agrees to do without), AllReduces use the
// message algorithms and large Broadcasts and AllGathers read the members' buffers directly
// (rma_algorithms).
TEST(Collective, OneMemberPerRankWithoutStreams) {
  Peers peers = OnePerRank();
  ASSERT_EQ(static_cast<int>(peers.size()), Ranks());
  JoinAll(peers, "no-streams", /*timeout_ms=*/60'000, /*no_streams_below=*/1);
  ExpectAllEmpty(peers, &Peer::Check, std::string("no-streams"),
                 std::vector<int64_t>{5000, 100'003, 600'001}, false);
  ExpectAllEmpty(peers, &Peer::Streams, std::string("no-streams"), int64_t{600'001});
  ExpectAllEmpty(peers, &Peer::Large, std::string("no-streams"), int64_t{64} << 20);
  ExpectMismatchesRaise(peers, "no-streams");
  ExpectAllEmpty(peers, &Peer::Streams, std::string("no-streams"), int64_t{600'001});
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("no-streams"));
}

TEST(Collective, TwoGroupsUsedConcurrently) {
  Peers peers = MakePeers(std::max(3, Ranks()));
  JoinAll(peers, "first");
  Peers reversed(peers.rbegin(), peers.rend());
  JoinAll(reversed, "second");
  ExpectAllEmpty(peers, &Peer::TwoGroups, std::string("first"), std::string("second"), int64_t{5});
  ExpectAllEmpty(peers, &Peer::TwoGroups, std::string("first"), std::string("second"),
                 int64_t{300'000});
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("first"));
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("second"));
}

TEST(Collective, CreateGroupFromTheDriver) {
  Peers peers = MakePeers(Ranks() + 1);
  coll::CreateGroup(peers, coll::Backend::kUcx, "declared");
  std::vector<prism::ObjectRef<std::vector<int>>> info;
  for (auto& p : peers) info.push_back(p.Task(&Peer::Info).Remote(std::string("declared")));
  auto got = prism::Get(info, kWaitMs);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ((*got[i]), (std::vector<int>{static_cast<int>(i), static_cast<int>(peers.size())}));
  }
  ExpectAllEmpty(peers, &Peer::Check, std::string("declared"), std::vector<int64_t>{7, 30000},
                 false);
  // Destroyed everywhere, then declared again over fewer actors: they join the new group.
  coll::DestroyGroup("declared");
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("declared"));
  Peers fewer(peers.begin(), peers.end() - 1);
  coll::CreateGroup(fewer, coll::Backend::kUcx, "declared");
  ExpectAllEmpty(fewer, &Peer::Check, std::string("declared"), std::vector<int64_t>{5}, false);
  coll::DestroyGroup("declared");
}

TEST(Collective, DestroyAndRecreateWithAnotherSize) {
  Peers peers = MakePeers(Ranks() + 1);
  JoinAll(peers, "again");
  ExpectAllEmpty(peers, &Peer::Check, std::string("again"), std::vector<int64_t>{9}, false);
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("again"));
  Peers fewer(peers.begin() + 1, peers.end());
  JoinAll(fewer, "again");
  ExpectAllEmpty(fewer, &Peer::Check, std::string("again"), std::vector<int64_t>{9, 40000}, false);
  ExpectAllEmpty(fewer, &Peer::Destroy, std::string("again"));
}

TEST(Collective, MismatchedSizesRaise) {
  Peers peers = MakePeers(2);
  JoinAll(peers, "mismatch", /*timeout_ms=*/5000);
  std::vector<prism::ObjectRef<std::string>> refs;
  for (auto& p : peers) refs.push_back(p.Task(&Peer::Mismatched).Remote(std::string("mismatch")));
  for (auto& r : prism::Get(refs, kWaitMs)) {
    EXPECT_EQ(r->rfind("raised: ", 0), 0U) << *r;
  }
  ExpectAllEmpty(peers, &Peer::Destroy, std::string("mismatch"));
}

TEST(Collective, BadArgumentsRaiseClearly) {
  EXPECT_THROW(coll::InitGroup(2, 2, coll::Backend::kUcx, "bad"), coll::CollectiveError);
  EXPECT_THROW(coll::InitGroup(0, 0, coll::Backend::kUcx, "bad"), coll::CollectiveError);
  EXPECT_THROW(coll::InitGroup(1, 0, coll::Backend::kUcx, "a/b"), coll::CollectiveError);
  std::vector<float> v(4);
  try {
    coll::AllReduce(v, coll::ReduceOp::kSum, "nobody-joined-this");
    ADD_FAILURE() << "AllReduce on a group the caller is not in returned";
  } catch (const coll::CollectiveError& e) {
    EXPECT_NE(std::string(e.what()).find("not a member of group 'nobody-joined-this'"),
              std::string::npos)
        << e.what();
  }
  // A one-member group of the driver itself: every operation is the identity.
  coll::InitGroup(1, 0, coll::Backend::kUcx, "alone");
  EXPECT_THROW(coll::InitGroup(1, 0, coll::Backend::kUcx, "alone"), coll::CollectiveError);
  std::vector<int32_t> x{1, 2, 3};
  coll::AllReduce(x, coll::ReduceOp::kProduct, "alone");
  EXPECT_EQ(x, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_THROW(coll::Broadcast(x, 1, "alone"), coll::CollectiveError);  // no member 1
  coll::DestroyGroup("alone");
  EXPECT_FALSE(coll::IsGroupInitialized("alone"));
#ifndef PRISM_HAVE_NCCL
  EXPECT_THROW(coll::InitGroup(1, 0, coll::Backend::kNccl, "gpu"), coll::CollectiveError);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  prism::Init(argc, argv);  // ranks >= 1 never return
  int rc = RUN_ALL_TESTS();
  prism::Shutdown();
  return rc;
}
