// Peer failure: run with exactly 3 ranks under `mpirun --enable-recovery`.
//
// Rank 2 stalls its own progress inside a handler, so that operations aimed at it stay in
// flight, and then SIGKILLs itself. Ranks 0 and 1 must see the failure handler fire for rank 2
// within 5 s, their in-flight operations on rank 2 must complete with kPeerDead, and so must
// every later operation on it. The survivors then agree on a verdict over the transport (no MPI
// collective includes the dead rank) and rank 0 prints "FAILURE-TEST-PASSED rank 0" or
// "FAILURE-TEST-FAILED ...". mpirun exits 0 either way, so ctest reads those markers.

#include <gtest/gtest.h>
#include <mpi.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "mpi_test_main.h"
#include "prism/common/clock.h"
#include "prism/common/wire.h"
#include "prism/transport/mpi_bootstrap.h"
#include "prism/transport/transport.h"

namespace prism::transport {
namespace {

constexpr Rank kVictim = 2;
constexpr MessageType kStallType = kRuntimeTypesBegin;  // survivor -> victim: stop progressing
constexpr MessageType kStalledType = kRuntimeTypesBegin + 1;  // victim -> survivors: stalled
constexpr MessageType kBulkType = kRuntimeTypesBegin + 2;
constexpr MessageType kVerdictType = kRuntimeTypesBegin + 3;  // survivor -> survivor: passed?
constexpr MessageType kLeaveType = kRuntimeTypesBegin + 4;    // survivor -> survivor: leaving
constexpr MessageType kLeaveAckType = kRuntimeTypesBegin + 5;
constexpr int kDieTag = 7;
constexpr size_t kBigBytes = size_t{64} << 20;
constexpr int64_t kDetectionLimitNs = 5'000'000'000;

uint64_t PatternWord(size_t i) { return MixBits(0x51ab + i); }

struct Failure {
  Rank peer = kNoRank;
  std::string why;
  int64_t at_ns = 0;
};

// State shared by the handlers and the test.
struct World {
  MpiBootstrap* boot = nullptr;
  Transport* transport = nullptr;
  uint64_t victim_address = 0;
  std::vector<std::byte> victim_rkey;

  std::atomic<bool> stalled{false};
  Event stalled_event;
  std::mutex failures_mu;
  std::vector<Failure> failures;
  Event failure_event;
  std::atomic<int> peer_verdict{-1};  // the other survivor's: 1 passed, 0 failed
  Event verdict_event;
  std::atomic<bool> leave_acked{false};     // the other survivor knows we leave
  std::atomic<bool> leave_received{false};  // we know the other survivor leaves
  Event leave_event;

  size_t failure_count() {
    std::lock_guard lock(failures_mu);
    return failures.size();
  }
};

World* g_world = nullptr;

void InstallHandlers(World& world) {
  Transport& t = *world.transport;
  if (t.rank() == kVictim) {
    t.SetHandler(kStallType, [&t](Rank, std::span<const std::byte>) {
      // In progress context: nothing reaches this rank's worker from now on.
      for (Rank r = 0; r < t.size(); ++r) {
        if (r != kVictim) static_cast<void>(t.Send(r, kStalledType, {}));
      }
      // Every survivor says when its operations are in flight; then die.
      for (Rank r = 0; r < t.size(); ++r) {
        if (r == kVictim) continue;
        char go = 0;
        MPI_Recv(&go, 1, MPI_CHAR, r, kDieTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      }
      std::raise(SIGKILL);
    });
    t.SetBulkHandler(kBulkType, [](Rank, std::span<const std::byte>, IncomingBulk&) {});
    return;
  }
  t.SetHandler(kStalledType, [&world](Rank, std::span<const std::byte>) {
    world.stalled = true;
    world.stalled_event.Notify();
  });
  t.SetHandler(kVerdictType, [&world](Rank, std::span<const std::byte> payload) {
    WireReader r(payload);
    uint8_t passed = r.U8();
    world.peer_verdict = r.AtEnd() ? passed : 0;
    world.verdict_event.Notify();
  });
  // Leaving: the other survivor marks us departing before it acknowledges, so our exit is not
  // reported to it as a second failure.
  t.SetHandler(kLeaveType, [&t, &world](Rank source, std::span<const std::byte>) {
    t.MarkDeparting(source);
    static_cast<void>(t.Send(source, kLeaveAckType, {}));
    world.leave_received = true;
    world.leave_event.Notify();
  });
  t.SetHandler(kLeaveAckType, [&world](Rank, std::span<const std::byte>) {
    world.leave_acked = true;
    world.leave_event.Notify();
  });
  t.AddPeerFailureHandler([&world](Rank peer, const std::string& why) {
    {
      std::lock_guard lock(world.failures_mu);
      world.failures.push_back(Failure{peer, why, NowNanos()});
    }
    world.failure_event.Notify();
  });
}

// Collects the completion of one asynchronous operation. The callback holds it through a
// shared_ptr: the waiter may move on while the callback is still inside Event::Notify().
struct Outcome {
  std::atomic<int> code{-1};
  Event event;

  static std::shared_ptr<Outcome> Make() { return std::make_shared<Outcome>(); }
  static Completion Callback(const std::shared_ptr<Outcome>& outcome) {
    return [outcome](Status s) {
      outcome->code = static_cast<int>(s.code());
      outcome->event.Notify();
    };
  }
  bool Wait(Transport& t, int64_t deadline_ns) {
    return t.WaitUntil([this] { return code.load() >= 0; }, event, deadline_ns, 100'000);
  }
};

TEST(TransportFailureTest, SurvivorsSeeTheDeathAndOperationsOnTheDeadPeerFail) {
  World& w = *g_world;
  Transport& t = *w.transport;
  const Rank other = t.rank() == 0 ? 1 : 0;
  ASSERT_EQ(t.size(), 3) << "run with exactly 3 ranks";
  EXPECT_TRUE(t.IsAlive(kVictim));

  if (t.rank() == 0) {
    EXPECT_TRUE(t.Send(kVictim, kStallType, {}).ok());
  }
  EXPECT_TRUE(t.WaitUntil([&] { return w.stalled.load(); }, w.stalled_event,
                          NowNanos() + 10'000'000'000, 100'000))
      << "rank 2 never stalled";

  // In flight while rank 2 cannot progress: a 64 MiB bulk send (rendezvous: the receiver must
  // fetch it) and a 64 MiB RMA get of its registered region.
  std::vector<uint64_t> body(kBigBytes / 8, 0x77);
  std::vector<uint64_t> copy(kBigBytes / 8, 0);
  auto bulk = Outcome::Make();
  auto get = Outcome::Make();
  EXPECT_TRUE(
      t.SendBulk(kVictim, kBulkType, {}, std::as_bytes(std::span(body)), Outcome::Callback(bulk))
          .ok());
  t.Get(kVictim, w.victim_address, w.victim_rkey, copy.data(), kBigBytes, Outcome::Callback(get));
  // Over tcp an RMA get needs the target's progress, so it stays in flight; over shared memory
  // (CMA) the initiator reads the target's memory alone and the get may already be done.
  bool get_done_before_death = get->code.load() >= 0;

  char go = 1;
  int64_t killed_at = NowNanos();
  EXPECT_EQ(MPI_Send(&go, 1, MPI_CHAR, kVictim, kDieTag, MPI_COMM_WORLD), MPI_SUCCESS);

  EXPECT_TRUE(t.WaitUntil([&] { return w.failure_count() > 0; }, w.failure_event,
                          killed_at + kDetectionLimitNs, 100'000))
      << "no peer failure reported within 5 s";
  {
    std::lock_guard lock(w.failures_mu);
    ASSERT_EQ(w.failures.size(), 1u) << "exactly one failure: rank 2";
    EXPECT_EQ(w.failures[0].peer, kVictim);
    EXPECT_NE(w.failures[0].why.find("rank 2"), std::string::npos) << w.failures[0].why;
    EXPECT_LT(w.failures[0].at_ns - killed_at, kDetectionLimitNs);
  }
  EXPECT_FALSE(t.IsAlive(kVictim));
  EXPECT_TRUE(t.IsAlive(other));

  EXPECT_TRUE(bulk->Wait(t, NowNanos() + 5'000'000'000))
      << "the in-flight SendBulk never completed";
  EXPECT_EQ(bulk->code.load(), static_cast<int>(ErrorCode::kPeerDead));
  EXPECT_TRUE(get->Wait(t, NowNanos() + 5'000'000'000)) << "the in-flight Get never completed";
  std::printf("%sthe 64 MiB get %s\n", test::RankTag(*w.boot).c_str(),
              get_done_before_death ? "completed before the death (shared-memory RMA is one-sided)"
                                    : "was in flight at the death");
  if (get_done_before_death && get->code.load() == static_cast<int>(ErrorCode::kOk)) {
    size_t bad = 0;
    for (size_t i = 0; i < copy.size(); ++i) bad += copy[i] != PatternWord(i) ? 1 : 0;
    EXPECT_EQ(bad, 0u) << "a get that completed before the death read wrong data";
  } else {
    EXPECT_EQ(get->code.load(), static_cast<int>(ErrorCode::kPeerDead));
  }

  // After the death: every operation on rank 2 fails at once with kPeerDead.
  std::vector<std::byte> small(16, std::byte{1});
  EXPECT_EQ(t.Send(kVictim, kStallType, small).code(), ErrorCode::kPeerDead);
  auto late_bulk = Outcome::Make();
  EXPECT_TRUE(t.SendBulk(kVictim, kBulkType, small, small, Outcome::Callback(late_bulk)).ok());
  EXPECT_EQ(late_bulk->code.load(), static_cast<int>(ErrorCode::kPeerDead));
  auto late_get = Outcome::Make();
  uint64_t word = 0;
  t.Get(kVictim, w.victim_address, w.victim_rkey, &word, sizeof word, Outcome::Callback(late_get));
  EXPECT_TRUE(late_get->Wait(t, NowNanos() + 5'000'000'000));
  EXPECT_EQ(late_get->code.load(), static_cast<int>(ErrorCode::kPeerDead));
  EXPECT_EQ(w.failure_count(), 1u) << "the failure handler fired more than once";

  // The survivors still talk to each other: exchange verdicts.
  std::vector<std::byte> verdict;
  WireWriter writer(verdict);
  writer.U8(HasFailure() ? 0 : 1);
  EXPECT_TRUE(t.Send(other, kVerdictType, verdict).ok());
  EXPECT_TRUE(t.WaitUntil([&] { return w.peer_verdict.load() >= 0; }, w.verdict_event,
                          NowNanos() + 10'000'000'000, 100'000))
      << "no verdict from rank " << other;
  EXPECT_EQ(w.peer_verdict.load(), 1) << "rank " << other << " failed";
}

}  // namespace
}  // namespace prism::transport

int main(int argc, char** argv) {
  using namespace prism;
  using namespace prism::transport;
  auto boot = MpiBootstrap::Create(&argc, &argv);
  if (!boot.ok()) {
    std::printf("FAILURE-TEST-FAILED: MPI bootstrap: %s\n", boot.error().ToString().c_str());
    return 1;
  }
  MpiBootstrap& b = **boot;
  testing::InitGoogleTest(&argc, argv);
  const std::string tag = test::RankTag(b);
  if (b.size() != 3) {
    std::printf("FAILURE-TEST-FAILED %sneeds exactly 3 ranks, got %d\n", tag.c_str(), b.size());
    b.Finalize();
    return 1;
  }
  auto created = Transport::Create(b, TransportOptions{});
  if (!created.ok()) {
    std::printf("FAILURE-TEST-FAILED %sTransport::Create: %s\n", tag.c_str(),
                created.error().ToString().c_str());
    return 1;
  }
  Transport& t = **created;
  World world;
  world.boot = &b;
  world.transport = &t;
  g_world = &world;
  InstallHandlers(world);
  if (Status s = t.Start(b); !s.ok()) {
    std::printf("FAILURE-TEST-FAILED %sTransport::Start: %s\n", tag.c_str(), s.ToString().c_str());
    return 1;
  }

  // The victim exposes a region; everyone learns where it is (the last collective with rank 2).
  std::vector<uint64_t> region_words;
  std::unique_ptr<MemoryRegion> region;
  std::vector<std::byte> mine;
  if (b.rank() == kVictim) {
    region_words.resize(kBigBytes / 8);
    for (size_t i = 0; i < region_words.size(); ++i) region_words[i] = PatternWord(i);
    auto registered = t.RegisterMemory(region_words.data(), kBigBytes);
    if (!registered.ok()) {
      std::printf("FAILURE-TEST-FAILED %sRegisterMemory: %s\n", tag.c_str(),
                  registered.error().ToString().c_str());
    } else {
      region = std::move(*registered);
      WireWriter w(mine);
      w.U64(region->address());
      w.Bytes(region->rkey());
    }
  }
  auto all = b.AllGather(mine);
  if (all.ok()) {
    WireReader r((*all)[kVictim]);
    world.victim_address = r.U64();
    auto rkey = r.Bytes();
    world.victim_rkey.assign(rkey.begin(), rkey.end());
  }
  static_cast<void>(b.Barrier([&] { t.TryProgress(); }));

  if (b.rank() == kVictim) {
    // Dies in its stall handler; if it is still alive after 30 s, the survivors never got there.
    Event never;
    t.WaitUntil([] { return false; }, never, NowNanos() + 30'000'000'000, 0);
    std::printf("FAILURE-TEST-FAILED %sstill alive after 30 s\n", tag.c_str());
    return 1;
  }

  if (b.rank() != 0) {
    testing::TestEventListeners& listeners = testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  int rc = RUN_ALL_TESTS();
  bool passed = rc == 0 && world.peer_verdict.load() == 1;
  if (b.rank() == 0) {
    std::printf("%s rank 0\n", passed ? "FAILURE-TEST-PASSED" : "FAILURE-TEST-FAILED");
  } else if (rc != 0) {
    std::printf("FAILURE-TEST-FAILED rank %d\n", b.rank());
  }
  std::fflush(stdout);
  const Rank other = b.rank() == 0 ? 1 : 0;
  static_cast<void>(t.Send(other, kLeaveType, {}));
  t.WaitUntil([&] { return world.leave_acked.load() && world.leave_received.load(); },
              world.leave_event, NowNanos() + 5'000'000'000, 100'000);
  t.MarkAllDeparting();
  t.Stop();
  g_world = nullptr;
  created->reset();
  // No MPI_Finalize: with Open MPI 4.1.4 and --enable-recovery it hangs in its closing PMIx fence
  // when it starts some 50-100 ms after a rank died (measured: 2 of 10 runs of a plain MPI
  // program). mpirun --enable-recovery accepts survivors that exit without it.
  std::fflush(nullptr);
  std::_Exit(passed ? 0 : 1);
}
