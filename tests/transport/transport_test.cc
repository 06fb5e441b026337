// Multi-rank tests of Transport: control messages, bulk messages, RMA, malformed input, waiting
// and peer queries. Run under mpiexec with 2 or more ranks; every rank runs every test.

#include "prism/transport/transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "mpi_test_main.h"
#include "prism/common/clock.h"
#include "prism/common/wire.h"
#include "prism/transport/mpi_bootstrap.h"
#include "raw_frame_sender.h"
#include "recorders.h"

namespace prism::transport {
namespace {

using namespace std::chrono_literals;

// Message types of these tests (the runtime's range: no other layer is running).
constexpr MessageType kInboxTypes = kRuntimeTypesBegin;  // kInboxCount types with an Inbox each
constexpr int kInboxCount = 8;
constexpr MessageType kBulkType = kRuntimeTypesBegin + 16;
constexpr MessageType kDeclinedBulkType = kRuntimeTypesBegin + 17;  // handler never takes the body
constexpr MessageType kWakeType = kRuntimeTypesBegin + 18;
constexpr MessageType kUnhandledType = kRuntimeTypesBegin + 19;  // no handler at all
constexpr MessageType kHoldType = kRuntimeTypesBegin + 20;       // runs World::hold_body

constexpr auto kWaitLimit = 20s;
constexpr size_t kRendezvousBytes = 200 << 10;
constexpr size_t kBigBytes = size_t{64} << 20;

std::span<const std::byte> AsBytes(const std::vector<uint64_t>& words) {
  return std::as_bytes(std::span(words));
}

// Deterministic content: word i of a buffer named by `seed`.
uint64_t PatternWord(uint64_t seed, size_t i) { return MixBits(seed * 0x9e3779b97f4a7c15ULL + i); }

void FillPattern(std::vector<uint64_t>& words, uint64_t seed) {
  for (size_t i = 0; i < words.size(); ++i) words[i] = PatternWord(seed, i);
}

// Number of words that differ from the pattern; the first bad index goes to `first_bad`.
size_t CountPatternMismatches(const uint64_t* words, size_t n, uint64_t seed,
                              size_t first_index = 0, size_t* first_bad = nullptr) {
  size_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    if (words[i] != PatternWord(seed, first_index + i)) {
      if (bad == 0 && first_bad != nullptr) *first_bad = i;
      ++bad;
    }
  }
  return bad;
}

std::vector<std::byte> PayloadFor(Rank source, Rank destination, size_t size, int salt) {
  std::vector<std::byte> p(size);
  for (size_t i = 0; i < size; ++i) {
    p[i] = static_cast<std::byte>((static_cast<size_t>(source) * 131 +
                                   static_cast<size_t>(destination) * 31 + i * 7 + (i >> 9) +
                                   static_cast<size_t>(salt) * 17) &
                                  0xff);
  }
  return p;
}

// Where a bulk body from one source goes: chosen by the receiving test before senders start.
struct BulkSlot {
  std::byte* destination = nullptr;
  size_t capacity = 0;
  bool receive_twice = false;
  std::vector<std::byte> meta;
  size_t size = 0;
  std::atomic<int> status{-1};  // ErrorCode of the completion; -1 until it runs
  std::atomic<int> second_status{-1};

  void Reset() {
    destination = nullptr;
    capacity = 0;
    receive_twice = false;
    meta.clear();
    size = 0;
    status = -1;
    second_status = -1;
  }
};

// What every test shares: the bootstrap, the started transport and the handlers' state.
struct World {
  MpiBootstrap* boot = nullptr;
  test::RecordingBootstrap* recording = nullptr;
  Transport* transport = nullptr;
  std::array<Inbox, kInboxCount> inboxes;
  std::vector<std::unique_ptr<BulkSlot>> bulk_slots;  // by source rank
  Event bulk_event;
  std::atomic<int> declined{0};
  Event declined_event;
  std::atomic<int> wakes{0};
  Event wake_event;
  // A message to oneself of kHoldType runs hold_body in progress context, i.e. while its thread
  // holds the worker: a test can stall this rank's progress at a point it chooses.
  std::function<void()> hold_body;
  std::atomic<bool> holding{false};

  void InstallHandlers() {
    bulk_slots.clear();
    for (int r = 0; r < transport->size(); ++r) bulk_slots.push_back(std::make_unique<BulkSlot>());
    for (int i = 0; i < kInboxCount; ++i) {
      transport->SetHandler(static_cast<MessageType>(kInboxTypes + i),
                            [this, i](Rank source, std::span<const std::byte> payload) {
                              inboxes[i].Push(source, payload);
                            });
    }
    transport->SetBulkHandler(kBulkType, [this](Rank source, std::span<const std::byte> meta,
                                                IncomingBulk& body) {
      BulkSlot& slot = *bulk_slots[source];
      slot.meta.assign(meta.begin(), meta.end());
      slot.size = body.size();
      if (slot.destination == nullptr || body.size() > slot.capacity) {
        slot.status = static_cast<int>(ErrorCode::kResourceExhausted);  // no room: drop the body
        bulk_event.Notify();
        return;
      }
      body.ReceiveInto(slot.destination, [this, &slot](Status s) {
        slot.status = static_cast<int>(s.code());
        bulk_event.Notify();
      });
      if (slot.receive_twice) {
        body.ReceiveInto(slot.destination, [this, &slot](Status s) {
          slot.second_status = static_cast<int>(s.code());
          bulk_event.Notify();
        });
      }
    });
    transport->SetBulkHandler(kDeclinedBulkType,
                              [this](Rank, std::span<const std::byte>, IncomingBulk&) {
                                declined.fetch_add(1);
                                declined_event.Notify();
                              });
    transport->SetHandler(kHoldType, [this](Rank, std::span<const std::byte>) {
      holding = true;
      if (hold_body) hold_body();
      holding = false;
    });
    transport->SetHandler(kWakeType, [this](Rank, std::span<const std::byte>) {
      wakes.fetch_add(1);
      wake_event.Notify();
    });
  }

  Status Barrier() const {
    return boot->Barrier([this] { transport->TryProgress(); });
  }

  bool WaitFor(const std::function<bool()>& ready, Event& event,
               std::chrono::nanoseconds limit = kWaitLimit) const {
    return transport->WaitUntil(ready, event, NowNanos() + limit.count(), 50'000);
  }
};

World* g_world = nullptr;

class TransportTest : public testing::Test {
 protected:
  void SetUp() override {
    for (Inbox& inbox : W().inboxes) inbox.Take();
    for (auto& slot : W().bulk_slots) slot->Reset();
    W().declined = 0;
    W().wakes = 0;
    W().hold_body = nullptr;
    before_ = T().stats();
    // Nobody sends to this rank before it has reset its state.
    EXPECT_TRUE(W().Barrier().ok());
  }
  // Nobody leaves a test while a peer may still send to it or read its memory.
  void TearDown() override { EXPECT_TRUE(W().Barrier().ok()); }

  static World& W() { return *g_world; }
  static Transport& T() { return *g_world->transport; }
  static Rank Me() { return g_world->transport->rank(); }
  static int N() { return g_world->transport->size(); }
  static Rank Next() { return (Me() + 1) % N(); }
  static Rank Previous() { return (Me() + N() - 1) % N(); }

  Transport::Stats before_;
};

TEST_F(TransportTest, RankAndSizeMatchTheBootstrap) {
  EXPECT_EQ(T().rank(), W().boot->rank());
  EXPECT_EQ(T().size(), W().boot->size());
  EXPECT_GE(T().size(), 2) << "run this binary under mpiexec -n 2 or more";
  for (Rank r = 0; r < N(); ++r) EXPECT_EQ(T().hostname(r), W().boot->hostnames()[r]);
}

TEST_F(TransportTest, IsAliveAndSameHostAreSensible) {
  EXPECT_TRUE(T().IsAlive(Me()));
  EXPECT_TRUE(T().SameHost(Me()));
  for (Rank r = 0; r < N(); ++r) {
    EXPECT_TRUE(T().IsAlive(r)) << "rank " << r;
    // mpiexec on one machine: one host name, one network namespace.
    EXPECT_EQ(T().SameHost(r), T().hostname(r) == T().hostname(Me())) << "rank " << r;
  }
  EXPECT_FALSE(T().IsAlive(-1));
  EXPECT_FALSE(T().IsAlive(kNoRank));
  EXPECT_FALSE(T().IsAlive(N()));
}

TEST_F(TransportTest, SameHostOfARankOutsideTheJobIsFalse) {
  EXPECT_FALSE(T().SameHost(-1));
  EXPECT_FALSE(T().SameHost(N()));
}

// Every rank sends five messages to every rank (itself included): 0 bytes, 1 byte, 13 bytes,
// 4 KiB and 200 KiB (above UCX's eager limit, so it goes rendezvous), each size on its own type.
TEST_F(TransportTest, ControlMessagesReachEveryRankWithTheirPayloads) {
  const size_t sizes[] = {0, 1, 13, 4096, kRendezvousBytes};
  constexpr int kKinds = 5;
  for (Rank to = 0; to < N(); ++to) {
    for (int k = 0; k < kKinds; ++k) {
      Status s = T().Send(to, static_cast<MessageType>(kInboxTypes + k),
                          PayloadFor(Me(), to, sizes[k], k));
      EXPECT_TRUE(s.ok()) << "to rank " << to << ": " << s.ToString();
    }
  }
  for (int k = 0; k < kKinds; ++k) {
    Inbox& inbox = W().inboxes[k];
    EXPECT_TRUE(
        W().WaitFor([&] { return inbox.count() >= static_cast<size_t>(N()); }, inbox.event()))
        << "size " << sizes[k] << ": got " << inbox.count() << " of " << N();
    std::map<Rank, int> per_source;
    for (const Received& m : inbox.Take()) {
      ++per_source[m.source];
      EXPECT_EQ(m.payload.size(), sizes[k]) << "from rank " << m.source;
      EXPECT_TRUE(m.payload == PayloadFor(m.source, Me(), sizes[k], k))
          << "payload of " << sizes[k] << " bytes from rank " << m.source;
    }
    for (Rank r = 0; r < N(); ++r)
      EXPECT_EQ(per_source[r], 1) << "messages of size " << sizes[k] << " from " << r;
    EXPECT_EQ(per_source.size(), static_cast<size_t>(N()));
  }
}

TEST_F(TransportTest, LoopbackDeliversToSelfInOrder) {
  constexpr int kMessages = 100;
  for (int i = 0; i < kMessages; ++i) {
    std::vector<std::byte> payload;
    WireWriter w(payload);
    w.U32(static_cast<uint32_t>(i));
    payload.resize(payload.size() + static_cast<size_t>(i % 7) * 1000, std::byte{0x5a});
    EXPECT_TRUE(T().Send(Me(), kInboxTypes + 6, payload).ok());
  }
  EXPECT_TRUE(T().Send(Me(), kInboxTypes + 7, {}).ok());
  Inbox& inbox = W().inboxes[6];
  EXPECT_TRUE(W().WaitFor([&] { return inbox.count() >= kMessages; }, inbox.event()));
  EXPECT_TRUE(W().WaitFor([&] { return W().inboxes[7].count() >= 1; }, W().inboxes[7].event()));
  auto messages = inbox.Take();
  ASSERT_EQ(messages.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(messages[i].source, Me());
    WireReader r(messages[i].payload);
    EXPECT_EQ(r.U32(), static_cast<uint32_t>(i)) << "loopback message out of order";
    EXPECT_EQ(r.remaining(), static_cast<size_t>(i % 7) * 1000);
  }
  auto empty = W().inboxes[7].Take();
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].source, Me());
  EXPECT_TRUE(empty[0].payload.empty());
}

// Sends `per_thread` messages (thread index, sequence number) from each of `threads` threads to
// every peer, and collects what this rank received, by (source, thread), in arrival order.
std::map<std::pair<Rank, int>, std::vector<uint32_t>> ExchangeFromThreads(
    const World& world, Inbox& inbox, MessageType type, int threads, uint32_t per_thread) {
  Transport& t = *world.transport;
  std::atomic<int> send_errors{0};
  std::atomic<int> sending{threads};
  std::vector<std::thread> senders;
  for (int i = 0; i < threads; ++i) {
    senders.emplace_back([&, i] {
      for (uint32_t seq = 0; seq < per_thread; ++seq) {
        for (Rank to = 0; to < t.size(); ++to) {
          if (to == t.rank()) continue;
          std::vector<std::byte> payload;
          WireWriter w(payload);
          w.U8(static_cast<uint8_t>(i));
          w.U32(seq);
          if (!t.Send(to, type, payload).ok()) ++send_errors;
        }
      }
      --sending;
    });
  }
  // A thread that keeps taking the worker for progress, as waiting threads do: sends then often
  // find the worker busy and queue for it.
  std::thread poller([&] {
    while (sending.load() > 0) t.TryProgress();
    t.ReleasePolling();
  });
  for (auto& s : senders) s.join();
  poller.join();
  EXPECT_EQ(send_errors.load(), 0);
  const size_t expected =
      static_cast<size_t>(threads) * per_thread * static_cast<size_t>(t.size() - 1);
  EXPECT_TRUE(world.WaitFor([&] { return inbox.count() >= expected; }, inbox.event()))
      << "got " << inbox.count() << " of " << expected;
  std::map<std::pair<Rank, int>, std::vector<uint32_t>> streams;
  for (const Received& m : inbox.Take()) {
    WireReader r(m.payload);
    int thread = r.U8();
    uint32_t seq = r.U32();
    EXPECT_TRUE(r.AtEnd());
    streams[{m.source, thread}].push_back(seq);
  }
  EXPECT_EQ(streams.size(), static_cast<size_t>(threads * (t.size() - 1)));
  return streams;
}

// Several threads send at once to every peer; the receiver gets every message exactly once.
TEST_F(TransportTest, ConcurrentSendersLoseNoMessage) {
  constexpr uint32_t kPerThread = 300;
  auto streams = ExchangeFromThreads(W(), W().inboxes[5], kInboxTypes + 5, 4, kPerThread);
  for (auto& [key, seqs] : streams) {
    std::sort(seqs.begin(), seqs.end());
    std::vector<uint32_t> all(kPerThread);
    for (uint32_t i = 0; i < kPerThread; ++i) all[i] = i;
    EXPECT_EQ(seqs, all) << "from rank " << key.first << " thread " << key.second;
  }
}

// What one thread sends to one peer arrives in the order it was sent (UCX keeps the order of
// the sends on one endpoint; the transport must hand them to UCX in that order too).
TEST_F(TransportTest, SendsOfOneThreadToOnePeerArriveInOrder) {
  auto streams = ExchangeFromThreads(W(), W().inboxes[4], kInboxTypes + 4, 4, 3000);
  for (const auto& [key, seqs] : streams) {
    auto unsorted = std::is_sorted_until(seqs.begin(), seqs.end());
    EXPECT_TRUE(unsorted == seqs.end())
        << "from rank " << key.first << " thread " << key.second << ": message " << *unsorted
        << " arrived after message " << *(unsorted - 1) << " (position "
        << (unsorted - seqs.begin()) << ")";
  }
}

// A Send that returned before a second Send started (here: the second one is made by a handler
// that waited for the first to return) arrives first. The first Send finds the worker busy (the
// handler's thread holds it) and is queued; the handler's own Send must not overtake it.
TEST_F(TransportTest, SendsToOnePeerKeepTheOrderInWhichTheyHappened) {
  constexpr MessageType kType = kInboxTypes + 7;
  std::atomic<bool> first_sent{false};
  std::atomic<bool> timed_out{false};
  W().hold_body = [&] {
    int64_t deadline = NowNanos() + 10'000'000'000;
    while (!first_sent.load()) {
      if (NowNanos() > deadline) {
        timed_out = true;
        break;
      }
      std::this_thread::yield();
    }
    std::vector<std::byte> second = {std::byte{2}};
    EXPECT_TRUE(T().Send(Next(), kType, second).ok());
  };
  EXPECT_TRUE(T().Send(Me(), kHoldType, {}).ok());
  // Not WaitUntil: this thread must not progress (it would run the hold itself).
  int64_t deadline = NowNanos() + 10'000'000'000;
  while (!W().holding.load() && NowNanos() < deadline) std::this_thread::yield();
  EXPECT_TRUE(W().holding.load()) << "the progress thread never ran the hold";
  std::vector<std::byte> first = {std::byte{1}};
  EXPECT_TRUE(T().Send(Next(), kType, first).ok());
  first_sent = true;

  Inbox& inbox = W().inboxes[7];
  EXPECT_TRUE(W().WaitFor([&] { return inbox.count() >= 2; }, inbox.event()));
  EXPECT_TRUE(W().WaitFor([&] { return !W().holding.load(); }, inbox.event()));
  EXPECT_FALSE(timed_out.load());
  auto messages = inbox.Take();
  ASSERT_EQ(messages.size(), 2u);
  ASSERT_EQ(messages[0].payload.size(), 1u);
  ASSERT_EQ(messages[1].payload.size(), 1u);
  EXPECT_EQ(messages[0].payload[0], std::byte{1}) << "the second Send overtook the first";
  EXPECT_EQ(messages[1].payload[0], std::byte{2});
}

TEST_F(TransportTest, InvalidDestinationsAreRejected) {
  std::vector<std::byte> payload(8);
  EXPECT_EQ(T().Send(-1, kInboxTypes, payload).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(T().Send(N(), kInboxTypes, payload).code(), ErrorCode::kInvalidArgument);
  auto completions = std::make_shared<Completions>();
  Status bulk_self =
      T().SendBulk(Me(), kBulkType, payload, payload, Completions::Record(completions));
  EXPECT_EQ(bulk_self.code(), ErrorCode::kInvalidArgument);
  Status bulk_out =
      T().SendBulk(N(), kBulkType, payload, payload, Completions::Record(completions));
  EXPECT_EQ(bulk_out.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(completions->count.load(), 0) << "a rejected SendBulk must not also complete";
}

// Ring: each rank sends 64 MiB to the next one, which receives it into a buffer it chose.
TEST_F(TransportTest, SendBulkPlaces64MiBWhereTheReceiverChose) {
  std::vector<uint64_t> destination(kBigBytes / 8 + 2, 0);
  BulkSlot& slot = *W().bulk_slots[Previous()];
  // The receiver puts the body one word into its buffer, to show that it chooses the place.
  slot.destination = reinterpret_cast<std::byte*>(destination.data() + 1);
  slot.capacity = kBigBytes;
  std::vector<uint64_t> body(kBigBytes / 8);
  FillPattern(body, static_cast<uint64_t>(Me()));
  EXPECT_TRUE(W().Barrier().ok());  // every receiver has chosen its buffer

  std::vector<std::byte> meta;
  WireWriter w(meta);
  w.String("bulk from rank " + std::to_string(Me()));
  auto sent = std::make_shared<Completions>();
  Status s = T().SendBulk(Next(), kBulkType, meta, AsBytes(body), Completions::Record(sent));
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(W().WaitFor([&] { return sent->count.load() == 1; }, sent->event))
      << "send never completed";
  EXPECT_EQ(sent->code(), ErrorCode::kOk);
  EXPECT_TRUE(W().WaitFor([&] { return slot.status.load() >= 0; }, W().bulk_event))
      << "body never arrived";
  EXPECT_EQ(slot.status.load(), static_cast<int>(ErrorCode::kOk));
  EXPECT_EQ(slot.size, kBigBytes);
  WireReader r(slot.meta);
  EXPECT_EQ(r.String(), "bulk from rank " + std::to_string(Previous()));
  EXPECT_TRUE(r.AtEnd());
  size_t first_bad = 0;
  size_t bad = CountPatternMismatches(destination.data() + 1, kBigBytes / 8,
                                      static_cast<uint64_t>(Previous()), 0, &first_bad);
  EXPECT_EQ(bad, 0u) << "first bad word at " << first_bad;
  EXPECT_EQ(destination.front(), 0u) << "wrote before the chosen place";
  EXPECT_EQ(destination.back(), 0u) << "wrote past the body";
}

TEST_F(TransportTest, SmallAndEmptyBulkBodiesArrive) {
  for (size_t size : {size_t{0}, size_t{100}}) {
    SCOPED_TRACE("body of " + std::to_string(size) + " bytes");
    std::vector<std::byte> destination(128, std::byte{0xee});
    BulkSlot& slot = *W().bulk_slots[Previous()];
    slot.Reset();
    slot.destination = destination.data();
    slot.capacity = destination.size();
    slot.receive_twice = true;
    EXPECT_TRUE(W().Barrier().ok());
    std::vector<std::byte> body = PayloadFor(Me(), Next(), size, 3);
    auto sent = std::make_shared<Completions>();
    EXPECT_TRUE(T().SendBulk(Next(), kBulkType, {}, body, Completions::Record(sent)).ok());
    EXPECT_TRUE(W().WaitFor([&] { return sent->count.load() == 1; }, sent->event));
    EXPECT_EQ(sent->code(), ErrorCode::kOk);
    EXPECT_TRUE(W().WaitFor(
        [&] { return slot.status.load() >= 0 && slot.second_status.load() >= 0; }, W().bulk_event));
    EXPECT_EQ(slot.status.load(), static_cast<int>(ErrorCode::kOk));
    EXPECT_EQ(slot.second_status.load(), static_cast<int>(ErrorCode::kFailedPrecondition))
        << "a second ReceiveInto of one body must fail";
    EXPECT_EQ(slot.size, size);
    EXPECT_TRUE(slot.meta.empty());
    std::vector<std::byte> expected = PayloadFor(Previous(), Me(), size, 3);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), destination.begin()));
    EXPECT_EQ(destination[size], std::byte{0xee}) << "wrote past the body";
    EXPECT_TRUE(W().Barrier().ok());
  }
}

// A handler may leave a body alone: it is dropped, the sender still completes, and the
// connection keeps working.
TEST_F(TransportTest, UnreceivedBulkBodiesAreDroppedAndTheSenderCompletes) {
  std::vector<uint64_t> large(kRendezvousBytes / 8, 7);
  std::vector<std::byte> small(64, std::byte{1});
  auto sent = std::make_shared<Completions>();
  EXPECT_TRUE(
      T().SendBulk(Next(), kDeclinedBulkType, {}, small, Completions::Record(sent, 0)).ok());
  EXPECT_TRUE(
      T().SendBulk(Next(), kDeclinedBulkType, {}, AsBytes(large), Completions::Record(sent, 1))
          .ok());
  EXPECT_TRUE(W().WaitFor([&] { return sent->count.load() == 2; }, sent->event))
      << sent->count.load() << " of 2";
  EXPECT_EQ(sent->failures(), 0);
  EXPECT_TRUE(W().WaitFor([&] { return W().declined.load() == 2; }, W().declined_event));
  EXPECT_TRUE(T().Send(Next(), kInboxTypes, {}).ok());
  EXPECT_TRUE(W().WaitFor([&] { return W().inboxes[0].count() == 1; }, W().inboxes[0].event()));
}

// Every rank exposes a 64 MiB region; every rank reads all of every other rank's region, and a
// small piece at an odd offset.
TEST_F(TransportTest, GetReadsA64MiBRegionOfEveryOtherRank) {
  std::vector<uint64_t> region_words(kBigBytes / 8);
  FillPattern(region_words, 1000 + static_cast<uint64_t>(Me()));
  auto region = T().RegisterMemory(region_words.data(), kBigBytes);
  EXPECT_TRUE(region.ok()) << region.error().ToString();
  std::vector<std::byte> mine;
  WireWriter w(mine);
  if (region.ok()) {
    EXPECT_EQ((*region)->address(), reinterpret_cast<uint64_t>(region_words.data()));
    EXPECT_EQ((*region)->size(), kBigBytes);
    EXPECT_FALSE((*region)->rkey().empty());
    w.U64((*region)->address());
    w.Bytes((*region)->rkey());
  }
  // The barrier's progress calls hand the worker to and from the progress thread, which serves
  // the peers' gets: that orders the fill above before those reads for ThreadSanitizer too.
  EXPECT_TRUE(W().Barrier().ok());
  auto all = W().boot->AllGather(mine);  // collective: no ASSERT before it
  EXPECT_TRUE(all.ok());

  std::vector<std::vector<uint64_t>> copies(static_cast<size_t>(N()));
  std::vector<std::vector<uint64_t>> pieces(static_cast<size_t>(N()));
  auto gets = std::make_shared<Completions>();
  int started = 0;
  constexpr size_t kPieceWord = 12345;
  constexpr size_t kPieceWords = 100;
  for (Rank r = 0; all.ok() && r < N(); ++r) {
    if (r == Me()) continue;
    WireReader reader((*all)[r]);
    uint64_t address = reader.U64();
    auto rkey = reader.Bytes();
    EXPECT_TRUE(reader.AtEnd()) << "rank " << r << " has no region";
    if (!reader.AtEnd()) continue;
    copies[r].assign(kBigBytes / 8, 0);
    pieces[r].assign(kPieceWords, 0);
    T().Get(r, address, rkey, copies[r].data(), kBigBytes, Completions::Record(gets, 2 * r));
    T().Get(r, address + kPieceWord * 8, rkey, pieces[r].data(), kPieceWords * 8,
            Completions::Record(gets, 2 * r + 1));
    started += 2;
  }
  EXPECT_TRUE(W().WaitFor([&] { return gets->count.load() == started; }, gets->event))
      << gets->count.load() << " of " << started << " gets completed";
  // The targets keep their regions until every rank has finished reading.
  EXPECT_TRUE(W().Barrier().ok());
  for (Rank r = 0; r < N(); ++r) {
    if (r == Me() || copies[r].empty()) continue;
    EXPECT_EQ(gets->code(2 * r), ErrorCode::kOk) << "get from " << r;
    EXPECT_EQ(gets->code(2 * r + 1), ErrorCode::kOk) << "piece from " << r;
    size_t first_bad = 0;
    EXPECT_EQ(CountPatternMismatches(copies[r].data(), copies[r].size(),
                                     1000 + static_cast<uint64_t>(r), 0, &first_bad),
              0u)
        << "region of rank " << r << ", first bad word " << first_bad;
    EXPECT_EQ(CountPatternMismatches(pieces[r].data(), kPieceWords, 1000 + static_cast<uint64_t>(r),
                                     kPieceWord),
              0u)
        << "piece of rank " << r;
  }
}

TEST_F(TransportTest, GetFromSelfOrAStrangerFailsWithInvalidArgument) {
  uint64_t word = 0;
  std::vector<std::byte> fake_rkey(16);
  for (Rank bad : {Me(), Rank{-1}, N()}) {
    auto completions = std::make_shared<Completions>();
    T().Get(bad, reinterpret_cast<uint64_t>(&word), fake_rkey, &word, sizeof word,
            Completions::Record(completions));
    EXPECT_EQ(completions->count.load(), 1) << "rank " << bad << ": not completed at once";
    EXPECT_EQ(completions->code(), ErrorCode::kInvalidArgument) << "rank " << bad;
  }
}

// Frames that Transport::Send can produce but that no handler takes: dropped and counted.
TEST_F(TransportTest, MessagesNoHandlerTakesAreDroppedAndCounted) {
  constexpr int kPerPeer = 5;
  std::vector<uint64_t> big(kRendezvousBytes / 8, 3);
  std::vector<std::byte> meta(10, std::byte{9});
  std::vector<std::byte> small(10, std::byte{8});
  for (Rank to = 0; to < N(); ++to) {
    if (to == Me()) continue;
    EXPECT_TRUE(T().Send(to, kUnhandledType, {}).ok());
    EXPECT_TRUE(T().Send(to, kUnhandledType, small).ok());
    EXPECT_TRUE(T().Send(to, kUnhandledType, AsBytes(big)).ok());  // rendezvous
    // A bulk message (it has a meta part) to types without a bulk handler.
    EXPECT_TRUE(T().SendBulk(to, kInboxTypes, meta, small, [](Status) {}).ok());
    EXPECT_TRUE(T().SendBulk(to, kUnhandledType, meta, small, [](Status) {}).ok());
  }
  const uint64_t expected = static_cast<uint64_t>(kPerPeer) * static_cast<uint64_t>(N() - 1);
  Event never;
  EXPECT_TRUE(W().WaitFor(
      [&] { return T().stats().malformed_dropped - before_.malformed_dropped >= expected; }, never))
      << "dropped " << T().stats().malformed_dropped - before_.malformed_dropped << " of "
      << expected;
  EXPECT_TRUE(W().Barrier().ok());
  EXPECT_EQ(T().stats().malformed_dropped - before_.malformed_dropped, expected);
  EXPECT_EQ(W().inboxes[0].count(), 0u) << "a bulk message with meta reached a control handler";
  // The connection still works.
  EXPECT_TRUE(T().Send(Next(), kInboxTypes + 1, small).ok());
  EXPECT_TRUE(W().WaitFor([&] { return W().inboxes[1].count() == 1; }, W().inboxes[1].event()));
}

std::vector<std::byte> Frame(uint16_t magic, uint8_t version, MessageType type, int32_t source,
                             uint32_t payload_size, size_t extra_header_bytes = 0) {
  FrameHeader header{magic, version, type, source, payload_size};
  std::vector<std::byte> bytes(sizeof header + extra_header_bytes, std::byte{0x77});
  std::memcpy(bytes.data(), &header, sizeof header);
  return bytes;
}

// Frames that only a broken or hostile peer would send, crafted on a separate UCX worker.
TEST_F(TransportTest, MalformedFramesAreDroppedAndCounted) {
  auto raw = test::RawFrameSender::Create(W().recording->first_gather(), Me());
  EXPECT_TRUE(raw.ok()) << raw.error().ToString();
  std::vector<std::byte> payload(16, std::byte{0x42});
  const std::vector<std::vector<std::byte>> bad_frames = {
      Frame(0x1234, kFrameVersion, kInboxTypes, Me(), 0),           // bad magic
      Frame(kFrameMagic, kFrameVersion + 1, kInboxTypes, Me(), 0),  // unknown version
      Frame(kFrameMagic, kFrameVersion, kInboxTypes, -5, 0),        // negative source
      Frame(kFrameMagic, kFrameVersion, kInboxTypes, N(), 0),       // source outside the job
      Frame(kFrameMagic, kFrameVersion, kInboxTypes, Me(), 10),     // claims meta it lacks
      Frame(kFrameMagic, kFrameVersion, kInboxTypes, Me(), 0, 5),   // header longer than it says
      Frame(kFrameMagic, kFrameVersion, kUnhandledType, Me(), 0),   // well formed, unknown type
      std::vector<std::byte>(5, std::byte{0x50}),                   // shorter than a header
      {},                                                           // no header at all
  };
  const int per_peer =
      static_cast<int>(bad_frames.size()) + 1;  // + a frame claiming the receiver's rank
  for (Rank to = 0; raw.ok() && to < N(); ++to) {
    if (to == Me()) continue;
    for (const auto& frame : bad_frames) {
      Status s = (*raw)->Send(to, frame, payload);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    Status s = (*raw)->Send(to, Frame(kFrameMagic, kFrameVersion, kInboxTypes, to, 0), payload);
    EXPECT_TRUE(s.ok()) << s.ToString();
    // A well-formed frame on the same path reaches its handler: the drops above are the frames'
    // fault, not the path's.
    s = (*raw)->Send(to, Frame(kFrameMagic, kFrameVersion, kInboxTypes + 2, Me(), 0), payload);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  const uint64_t expected = static_cast<uint64_t>(per_peer) * static_cast<uint64_t>(N() - 1);
  Event never;
  EXPECT_TRUE(W().WaitFor(
      [&] { return T().stats().malformed_dropped - before_.malformed_dropped >= expected; }, never))
      << "dropped " << T().stats().malformed_dropped - before_.malformed_dropped << " of "
      << expected;
  Inbox& good = W().inboxes[2];
  EXPECT_TRUE(
      W().WaitFor([&] { return good.count() >= static_cast<size_t>(N() - 1); }, good.event()));
  EXPECT_TRUE(W().Barrier().ok());
  EXPECT_EQ(T().stats().malformed_dropped - before_.malformed_dropped, expected);
  EXPECT_EQ(W().inboxes[0].count(), 0u) << "a malformed frame reached a handler";
  std::set<Rank> sources;
  for (const Received& m : good.Take()) {
    sources.insert(m.source);
    EXPECT_TRUE(m.payload == payload);
  }
  EXPECT_EQ(sources.size(), static_cast<size_t>(N() - 1));
  EXPECT_EQ(sources.count(Me()), 0u);
}

TEST_F(TransportTest, WaitUntilHonoursItsDeadline) {
  Event event;
  int64_t start = NowNanos();
  bool ready = T().WaitUntil([] { return false; }, event, start + 50'000'000, 1'000'000);
  int64_t elapsed = NowNanos() - start;
  EXPECT_FALSE(ready);
  EXPECT_GE(elapsed, 50'000'000);
  EXPECT_LT(elapsed, 3'000'000'000);

  start = NowNanos();
  EXPECT_FALSE(T().WaitUntil([] { return false; }, event, start - 1, 1'000'000));  // already past
  EXPECT_TRUE(T().WaitUntil([] { return true; }, event, start - 1, 1'000'000));    // ready wins
  EXPECT_LT(NowNanos() - start, 1'000'000'000);
}

// The waiter does not spin at all (spin 0): it sleeps on its Event at once and only the
// progress thread can deliver the message whose handler notifies it.
TEST_F(TransportTest, WaitUntilWakesOnNotifyFromAHandler) {
  EXPECT_TRUE(T().Send(Next(), kWakeType, {}).ok());
  int64_t start = NowNanos();
  bool woke = T().WaitUntil([] { return W().wakes.load() >= 1; }, W().wake_event,
                            start + 10'000'000'000, 0);
  EXPECT_TRUE(woke);
  EXPECT_LT(NowNanos() - start, 5'000'000'000);
  EXPECT_TRUE(W().Barrier().ok());
  EXPECT_EQ(W().wakes.load(), 1);

  // The same through loopback, with no deadline.
  EXPECT_TRUE(T().Send(Me(), kWakeType, {}).ok());
  EXPECT_TRUE(T().WaitUntil([] { return W().wakes.load() >= 2; }, W().wake_event, -1, 0));
}

TEST_F(TransportTest, StatsCountMessages) {
  constexpr int kEach = 10;
  for (Rank to = 0; to < N(); ++to) {
    if (to == Me()) continue;
    for (int i = 0; i < kEach; ++i) EXPECT_TRUE(T().Send(to, kInboxTypes + 3, {}).ok());
  }
  const size_t expected = static_cast<size_t>(kEach) * static_cast<size_t>(N() - 1);
  Inbox& inbox = W().inboxes[3];
  EXPECT_TRUE(W().WaitFor([&] { return inbox.count() >= expected; }, inbox.event()));
  EXPECT_TRUE(W().Barrier().ok());
  Transport::Stats after = T().stats();
  EXPECT_EQ(after.messages_sent - before_.messages_sent, expected);
  EXPECT_EQ(after.messages_received - before_.messages_received, expected);
  EXPECT_EQ(after.malformed_dropped, before_.malformed_dropped);
}

}  // namespace
}  // namespace prism::transport

int main(int argc, char** argv) {
  using namespace prism;
  auto boot = test::StartMpiTests(&argc, &argv);
  test::RecordingBootstrap recording(*boot);
  auto created = transport::Transport::Create(recording, transport::TransportOptions{});
  if (!created.ok()) {
    std::fprintf(stderr, "%sTransport::Create failed: %s\n", test::RankTag(*boot).c_str(),
                 created.error().ToString().c_str());
    return 1;
  }
  transport::Transport& t = **created;
  transport::World world;
  world.boot = boot.get();
  world.recording = &recording;
  world.transport = &t;
  world.InstallHandlers();
  transport::g_world = &world;
  if (Status s = t.Start(recording); !s.ok()) {
    std::fprintf(stderr, "%sTransport::Start failed: %s\n", test::RankTag(*boot).c_str(),
                 s.ToString().c_str());
    return 1;
  }
  int rc = test::RunTestsOnAllRanks(*boot, [&] { t.TryProgress(); });
  // Leaving together: nobody reports the others' exit as a failure.
  t.MarkAllDeparting();
  static_cast<void>(boot->Barrier([&] { t.TryProgress(); }));
  t.Stop();
  transport::g_world = nullptr;
  created->reset();
  boot->Finalize();
  return rc;
}
