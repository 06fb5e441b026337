// Multi-rank tests of ObjectTransfer: pulls between ranks over active messages and RMA gets.
// Run under mpiexec with 2 or more ranks on one host; every rank runs every test. Each test
// starts its own transport, store and transfer (the transfer mode is fixed at construction).

#include "prism/objstore/object_transfer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "mpi_test_main.h"
#include "prism/common/clock.h"
#include "prism/transport/mpi_bootstrap.h"

namespace prism::objstore {
namespace {

using transport::Transport;

// Objects every rank r holds as primaries: ForPut(r, seq).
constexpr uint64_t kSmallSeq = 1;   // 100 B: no pool block
constexpr uint64_t kLargeSeq = 2;   // 1 MiB + 123 B: a large pool block
constexpr uint64_t kEmptySeq = 3;   // 0 B
constexpr uint64_t kMediumSeq = 4;  // 10 000 B: a pool block below the RMA threshold
constexpr uint64_t kMissingSeq = 99;
constexpr size_t kSmallBytes = 100;
constexpr size_t kLargeBytes = (size_t{1} << 20) + 123;
constexpr size_t kMediumBytes = 10000;

constexpr transport::MessageType kHoldType = transport::kRuntimeTypesBegin;
constexpr int64_t kWaitNs = 20'000'000'000;

transport::MpiBootstrap* g_boot = nullptr;

std::byte ContentByte(Rank owner, uint64_t seq, size_t i) {
  return static_cast<std::byte>((static_cast<size_t>(owner) * 97 + seq * 31 + i * 13 + (i >> 11)) &
                                0xff);
}

std::string MetadataFor(Rank owner, uint64_t seq) {
  return "m" + std::to_string(owner) + "." + std::to_string(seq);
}

size_t SizeOf(uint64_t seq) {
  switch (seq) {
    case kSmallSeq:
      return kSmallBytes;
    case kLargeSeq:
      return kLargeBytes;
    case kMediumSeq:
      return kMediumBytes;
    default:
      return 0;
  }
}

// Number of bytes of `buffer` that are not the content of object (owner, seq); the size and the
// metadata count as wrong when they differ.
size_t CountWrongBytes(const ObjectBuffer& buffer, Rank owner, uint64_t seq) {
  size_t wrong = buffer.size() == SizeOf(seq) ? 0 : 1;
  std::string meta(reinterpret_cast<const char*>(buffer.metadata().data()),
                   buffer.metadata().size());
  if (meta != MetadataFor(owner, seq)) ++wrong;
  for (size_t i = 0; i < std::min(buffer.size(), SizeOf(seq)); ++i) {
    if (buffer.data()[i] != ContentByte(owner, seq, i)) ++wrong;
  }
  return wrong;
}

// One pull's outcome, filled in by its callback (in progress context). The callback holds it
// through a shared_ptr: the waiter may return as soon as it sees `done`, while the callback is
// still inside Event::Notify().
struct PullOutcome {
  std::atomic<bool> done{false};
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  std::shared_ptr<ObjectBuffer> buffer;
  Event event;
  std::function<void()> then;  // runs after the outcome is recorded

  static ObjectTransfer::PullCallback Callback(const std::shared_ptr<PullOutcome>& outcome) {
    return [outcome](Result<std::shared_ptr<ObjectBuffer>> r) {
      if (r.ok()) {
        outcome->buffer = *r;
      } else {
        outcome->code = r.error().code;
        outcome->message = r.error().message;
      }
      outcome->done = true;
      outcome->event.Notify();
      if (outcome->then) outcome->then();
    };
  }
};

class ObjectTransferTest : public testing::Test {
 protected:
  // Collective: every rank starts the same world with the same options.
  void StartWorld(const ObjectTransferOptions& options) {
    auto created = Transport::Create(*g_boot, transport::TransportOptions{});
    EXPECT_TRUE(created.ok()) << created.error().ToString();
    if (!created.ok()) return;
    transport_ = std::move(*created);
    pool_ = BufferPool::Create({});
    store_ = std::make_unique<ObjectStore>(ObjectStoreOptions{});
    transfer_ = std::make_unique<ObjectTransfer>(*transport_, *store_, pool_, options);
    transfer_->RegisterHandlers();
    transport_->SetHandler(kHoldType, [this](Rank, std::span<const std::byte>) {
      if (hold_body_) hold_body_();
    });
    for (uint64_t seq : {kSmallSeq, kLargeSeq, kEmptySeq, kMediumSeq}) {
      auto buffer = ObjectBuffer::Create(pool_, SizeOf(seq), AsBytes(MetadataFor(Me(), seq)));
      for (size_t i = 0; i < SizeOf(seq); ++i)
        buffer->mutable_data()[i] = ContentByte(Me(), seq, i);
      store_->Add(ObjectId::ForPut(Me(), seq), buffer, /*primary=*/true);
    }
    Status started = transport_->Start(*g_boot);
    EXPECT_TRUE(started.ok()) << started.ToString();
  }

  void TearDown() override {
    if (!transport_) return;
    // Every pull of every rank is over before memory goes away.
    EXPECT_TRUE(Barrier().ok());
    pool_->DropRegistrations();
    transport_->MarkAllDeparting();
    EXPECT_TRUE(Barrier().ok());
    transport_->Stop();
    transfer_.reset();
    store_.reset();
    pool_.reset();
    transport_.reset();
  }

  static std::span<const std::byte> AsBytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
  }
  Status Barrier() {
    return g_boot->Barrier([this] { transport_->TryProgress(); });
  }
  Rank Me() const { return g_boot->rank(); }
  int N() const { return g_boot->size(); }
  Rank Next() const { return (Me() + 1) % N(); }
  bool Wait(const std::function<bool()>& ready, Event& event) {
    return transport_->WaitUntil(ready, event, NowNanos() + kWaitNs, 50'000);
  }

  // Pulls object (owner, seq) from `owner` and waits for the outcome.
  std::shared_ptr<PullOutcome> PullAndWait(Rank owner, uint64_t seq) {
    auto outcome = std::make_shared<PullOutcome>();
    transfer_->Pull(ObjectId::ForPut(owner, seq), owner, PullOutcome::Callback(outcome));
    EXPECT_TRUE(Wait([&] { return outcome->done.load(); }, outcome->event))
        << "pull of " << ObjectId::ForPut(owner, seq).ToString() << " never completed";
    return outcome;
  }

  // Every rank pulls object `seq` of every other rank; checks the bytes and the local copy.
  void PullFromEveryPeer(uint64_t seq) {
    for (Rank r = 0; r < N(); ++r) {
      if (r == Me()) continue;
      auto outcome = PullAndWait(r, seq);
      EXPECT_EQ(outcome->code, ErrorCode::kOk) << outcome->message;
      if (outcome->buffer == nullptr) continue;
      EXPECT_EQ(CountWrongBytes(*outcome->buffer, r, seq), 0u)
          << "object " << seq << " of rank " << r;
      EXPECT_EQ(store_->Find(ObjectId::ForPut(r, seq)), outcome->buffer)
          << "not in the local store";
    }
  }

  std::unique_ptr<Transport> transport_;
  std::shared_ptr<BufferPool> pool_;
  std::unique_ptr<ObjectStore> store_;
  std::unique_ptr<ObjectTransfer> transfer_;
  std::function<void()> hold_body_;
};

TEST_F(ObjectTransferTest, PullsSmallObjectsAsActiveMessages) {
  StartWorld({});
  PullFromEveryPeer(kSmallSeq);
  ObjectTransfer::Stats s = transfer_->stats();
  EXPECT_EQ(s.pulls, static_cast<uint64_t>(N() - 1));
  EXPECT_EQ(s.rma_pulls, 0u);
  EXPECT_EQ(s.bytes_pulled, kSmallBytes * static_cast<size_t>(N() - 1));
  EXPECT_EQ(store_->stats().secondary_bytes, kSmallBytes * static_cast<size_t>(N() - 1));
  EXPECT_TRUE(Barrier().ok());
  EXPECT_EQ(transfer_->stats().served, static_cast<uint64_t>(N() - 1));
}

TEST_F(ObjectTransferTest, PullsLargeSameHostObjectsWithAnRmaGet) {
  StartWorld({});
  PullFromEveryPeer(kLargeSeq);
  ObjectTransfer::Stats s = transfer_->stats();
  EXPECT_EQ(s.pulls, static_cast<uint64_t>(N() - 1));
  EXPECT_EQ(s.rma_pulls, static_cast<uint64_t>(N() - 1));
  EXPECT_EQ(s.bytes_pulled, kLargeBytes * static_cast<size_t>(N() - 1));
  EXPECT_TRUE(Barrier().ok());
  EXPECT_EQ(transfer_->stats().served, static_cast<uint64_t>(N() - 1));
  // The holder pins the buffer while peers read it and lets go when they are done: in the end
  // only the store (and the Find below) hold it.
  ObjectId mine = ObjectId::ForPut(Me(), kLargeSeq);
  Event never;
  EXPECT_TRUE(Wait([&] { return store_->Find(mine).use_count() == 2; }, never))
      << "a lease on " << mine.ToString() << " was never released";
}

TEST_F(ObjectTransferTest, ForcedActiveMessageModeNeverUsesRma) {
  ObjectTransferOptions options;
  options.mode = "am";
  StartWorld(options);
  PullFromEveryPeer(kLargeSeq);
  PullFromEveryPeer(kMediumSeq);
  ObjectTransfer::Stats s = transfer_->stats();
  EXPECT_EQ(s.pulls, 2u * static_cast<uint64_t>(N() - 1));
  EXPECT_EQ(s.rma_pulls, 0u);
  EXPECT_EQ(s.bytes_pulled, (kLargeBytes + kMediumBytes) * static_cast<size_t>(N() - 1));
}

TEST_F(ObjectTransferTest, ForcedGetModeUsesRmaForEveryPoolObject) {
  ObjectTransferOptions options;
  options.mode = "get";
  StartWorld(options);
  PullFromEveryPeer(kMediumSeq);  // below the RMA threshold, but in a pool block
  EXPECT_EQ(transfer_->stats().rma_pulls, static_cast<uint64_t>(N() - 1));
  PullFromEveryPeer(kSmallSeq);  // no pool block: sent as a message all the same
  EXPECT_EQ(transfer_->stats().rma_pulls, static_cast<uint64_t>(N() - 1));
}

TEST_F(ObjectTransferTest, RmaThresholdIsAnOption) {
  ObjectTransferOptions options;
  options.rma_threshold_bytes = 2 << 20;  // above the large object
  StartWorld(options);
  PullFromEveryPeer(kLargeSeq);
  EXPECT_EQ(transfer_->stats().rma_pulls, 0u);
}

TEST_F(ObjectTransferTest, EmptyObjectsArriveWithTheirMetadata) {
  StartWorld({});
  PullFromEveryPeer(kEmptySeq);
  EXPECT_EQ(transfer_->stats().bytes_pulled, 0u);
  EXPECT_EQ(transfer_->stats().rma_pulls, 0u);
}

TEST_F(ObjectTransferTest, PullOfAMissingObjectFailsWithNotFound) {
  StartWorld({});
  ObjectId missing = ObjectId::ForPut(Next(), kMissingSeq);
  auto outcome = PullAndWait(Next(), kMissingSeq);
  EXPECT_EQ(outcome->code, ErrorCode::kNotFound) << outcome->message;
  EXPECT_EQ(outcome->buffer, nullptr);
  EXPECT_NE(outcome->message.find(missing.ToString()), std::string::npos) << outcome->message;
  EXPECT_FALSE(store_->Contains(missing));
  // A failed pull is finished: the next one is a new transfer, and the object is still missing.
  auto again = PullAndWait(Next(), kMissingSeq);
  EXPECT_EQ(again->code, ErrorCode::kNotFound);
  EXPECT_EQ(transfer_->stats().pulls, 2u);
}

TEST_F(ObjectTransferTest, PullFromARankOutsideTheJobFailsAtOnce) {
  StartWorld({});
  auto outcome = std::make_shared<PullOutcome>();
  transfer_->Pull(ObjectId::ForPut(N(), kSmallSeq), N(), PullOutcome::Callback(outcome));
  EXPECT_TRUE(outcome->done.load()) << "the callback should run before Pull returns";
  EXPECT_EQ(outcome->code, ErrorCode::kInvalidArgument) << outcome->message;
}

// Sixteen pulls of one object from four threads and one from a handler, all started while this
// rank's progress is held (so none can complete early), share a single transfer.
TEST_F(ObjectTransferTest, ConcurrentPullsOfOneObjectShareOneTransfer) {
  StartWorld({});
  const ObjectId id = ObjectId::ForPut(Next(), kLargeSeq);
  constexpr int kThreads = 4;
  constexpr int kPullsPerThread = 4;
  constexpr int kPulls = kThreads * kPullsPerThread + 1;
  // Shared with the callbacks, which may still run Notify() when this test has seen them all.
  struct Shared {
    std::atomic<int> completed{0};
    Event all_done;
  };
  auto shared = std::make_shared<Shared>();
  std::vector<std::shared_ptr<PullOutcome>> outcomes;
  for (int i = 0; i < kPulls; ++i) {
    outcomes.push_back(std::make_shared<PullOutcome>());
    outcomes.back()->then = [shared] {
      shared->completed.fetch_add(1);
      shared->all_done.Notify();
    };
  }
  auto callback = [](const std::shared_ptr<PullOutcome>& outcome) {
    return PullOutcome::Callback(outcome);
  };

  std::atomic<bool> holding{false};
  std::atomic<bool> release{false};
  hold_body_ = [&] {  // in progress context: this rank's worker is held until `release`
    transfer_->Pull(id, Next(), callback(outcomes.back()));
    holding = true;
    int64_t deadline = NowNanos() + 10'000'000'000;
    while (!release.load() && NowNanos() < deadline) std::this_thread::yield();
  };
  const ObjectTransfer::Stats before = transfer_->stats();
  EXPECT_TRUE(transport_->Send(Me(), kHoldType, {}).ok());
  // Not WaitUntil: this thread must not progress (it would run the hold itself).
  int64_t deadline = NowNanos() + 10'000'000'000;
  while (!holding.load() && NowNanos() < deadline) std::this_thread::yield();
  EXPECT_TRUE(holding.load()) << "the progress thread never ran the hold";

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPullsPerThread; ++i) {
        transfer_->Pull(id, Next(),
                        callback(outcomes[static_cast<size_t>(t * kPullsPerThread + i)]));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(shared->completed.load(), 0) << "a pull completed while progress was held";
  release = true;

  EXPECT_TRUE(Wait([&] { return shared->completed.load() == kPulls; }, shared->all_done))
      << shared->completed.load() << " of " << kPulls << " pulls completed";
  EXPECT_EQ(transfer_->stats().pulls - before.pulls, 1u) << "the pulls did not share one transfer";
  std::shared_ptr<ObjectBuffer> first = outcomes[0]->buffer;
  ASSERT_NE(first, nullptr) << outcomes[0]->message;
  EXPECT_EQ(CountWrongBytes(*first, Next(), kLargeSeq), 0u);
  for (const auto& outcome : outcomes) {
    EXPECT_EQ(outcome->code, ErrorCode::kOk) << outcome->message;
    EXPECT_EQ(outcome->buffer, first) << "every waiter gets the one pulled copy";
  }
}

// Pulling from oneself is pointless but must not leave the caller waiting for ever.
TEST_F(ObjectTransferTest, PullFromSelfCompletes) {
  StartWorld({});
  for (uint64_t seq : {kLargeSeq, kSmallSeq}) {
    auto outcome = std::make_shared<PullOutcome>();
    transfer_->Pull(ObjectId::ForPut(Me(), seq), Me(), PullOutcome::Callback(outcome));
    int64_t start = NowNanos();
    bool done = transport_->WaitUntil([&] { return outcome->done.load(); }, outcome->event,
                                      start + 3'000'000'000, 50'000);
    EXPECT_TRUE(done) << "a pull of object " << seq << " (" << SizeOf(seq)
                      << " bytes) from this rank itself "
                      << "never completed";
    if (done && outcome->buffer != nullptr) {
      EXPECT_EQ(CountWrongBytes(*outcome->buffer, Me(), seq), 0u);
    }
  }
}

}  // namespace
}  // namespace prism::objstore

int main(int argc, char** argv) {
  using namespace prism;
  auto boot = test::StartMpiTests(&argc, &argv);
  objstore::g_boot = boot.get();
  // No transport lives between tests: nothing to progress at the final barrier.
  int rc = test::RunTestsOnAllRanks(*boot, nullptr);
  objstore::g_boot = nullptr;
  boot->Finalize();
  return rc;
}
