// prism::Queue: FIFO order, blocking with timeouts, maxsize, batches, item types, names,
// shutdown, and producers and consumers on other ranks sharing one queue.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace prism_test {
namespace {

using Clock = std::chrono::steady_clock;

// Puts first, first + 1, ..., first + count - 1, one at a time; returns count.
int QueueProduce(prism::Queue<int> queue, int first, int count) {
  for (int i = 0; i < count; ++i) queue.Put(first + i);
  return count;
}

// Gets one item, waiting at most timeout_ms.
int QueueTakeOne(prism::Queue<int> queue, int64_t timeout_ms) {
  return queue.Get(true, timeout_ms);
}

// Says on `ready` that it is about to wait, then waits for an item without limit; -1 when the
// queue is shut down meanwhile.
int QueueTakeOrDied(prism::Queue<int> queue, prism::Queue<int> ready) {
  ready.Put(1);
  try {
    return queue.Get();
  } catch (const prism::ActorDiedError&) {
    return -1;
  }
}

// An actor that drains a queue.
class QueueConsumer {
 public:
  // Takes `count` items one at a time; returns them in the order it got them.
  std::vector<int> Take(prism::Queue<int> queue, int count) {
    std::vector<int> items;
    for (int i = 0; i < count; ++i) items.push_back(queue.Get(true, 60'000));
    return items;
  }
};

QueueConsumer* NewQueueConsumer() { return new QueueConsumer; }

PRISM_REMOTE(QueueProduce, QueueTakeOne, QueueTakeOrDied, NewQueueConsumer, &QueueConsumer::Take);

struct QueueSample {
  int id = 0;
  std::string label;
  MSGPACK_DEFINE(id, label)
  friend bool operator==(const QueueSample&, const QueueSample&) = default;
};

TEST(QueueTest, ReturnsItemsInFifoOrder) {
  prism::Queue<int> queue(0);
  EXPECT_TRUE(queue.Empty());
  for (int i = 0; i < 50; ++i) queue.Put(i);
  EXPECT_EQ(queue.Size(), 50);
  EXPECT_EQ(queue.QSize(), 50);
  EXPECT_FALSE(queue.Empty());
  EXPECT_FALSE(queue.Full());  // unbounded
  for (int i = 0; i < 50; ++i) EXPECT_EQ(queue.Get(), i);
  EXPECT_TRUE(queue.Empty());
}

TEST(QueueTest, GetOnAnEmptyQueueThrowsQueueEmptyErrorAfterItsTimeout) {
  prism::Queue<int> queue(0);
  auto start = Clock::now();
  EXPECT_THROW(queue.GetNowait(), prism::QueueEmptyError);
  EXPECT_THROW(queue.Get(/*block=*/false, /*timeout_ms=*/10'000), prism::QueueEmptyError);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(5000));

  start = Clock::now();
  EXPECT_THROW(queue.Get(true, 300), prism::QueueEmptyError);
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::milliseconds(5000));
}

TEST(QueueTest, BoundedQueueRefusesItemsWhenFull) {
  prism::Queue<int> queue(2);
  queue.Put(1);
  queue.PutNowait(2);
  EXPECT_TRUE(queue.Full());
  EXPECT_THROW(queue.PutNowait(3), prism::QueueFullError);
  auto start = Clock::now();
  EXPECT_THROW(queue.Put(3, true, 300), prism::QueueFullError);
  auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(300));
  EXPECT_LT(waited, std::chrono::milliseconds(5000));
  EXPECT_EQ(queue.Size(), 2);

  EXPECT_EQ(queue.Get(), 1);
  EXPECT_FALSE(queue.Full());
  queue.PutNowait(3);
  EXPECT_EQ(queue.Get(), 2);
  EXPECT_EQ(queue.Get(), 3);
}

TEST(QueueTest, BlockedPutResumesWhenAnItemIsTaken) {
  prism::Queue<int> queue(1);
  queue.Put(1);
  prism::ObjectRef<int> producer = prism::Task(QueueProduce).Remote(queue, 2, 1);
  // The producer waits while the queue is full.
  EXPECT_TRUE(prism::Wait(std::vector{producer}, 1, 300).ready.empty());
  EXPECT_EQ(queue.Get(), 1);
  EXPECT_EQ(queue.Get(true, 30'000), 2);
  EXPECT_EQ(*producer.Get(), 1);
}

TEST(QueueTest, BlockedGetReturnsAnItemPutLater) {
  prism::Queue<int> queue(0);
  prism::ObjectRef<int> consumer = prism::Task(QueueTakeOne).Remote(queue, 30'000);
  queue.Put(42);
  EXPECT_EQ(*consumer.Get(), 42);
  EXPECT_TRUE(queue.Empty());
}

TEST(QueueTest, BatchesGoInAndOutWhole) {
  prism::Queue<int> queue(5);
  queue.PutNowaitBatch({1, 2, 3});
  EXPECT_THROW(queue.PutNowaitBatch({4, 5, 6}), prism::QueueFullError);
  EXPECT_EQ(queue.Size(), 3);
  EXPECT_THROW(queue.GetNowaitBatch(4), prism::QueueEmptyError);
  EXPECT_EQ(queue.Size(), 3);
  EXPECT_EQ(queue.GetNowaitBatch(2), (std::vector<int>{1, 2}));
  EXPECT_TRUE(queue.GetNowaitBatch(0).empty());
  EXPECT_THROW(queue.GetNowaitBatch(-1), prism::PrismError);
  queue.PutNowaitBatch({4, 5, 6, 7});
  EXPECT_TRUE(queue.Full());
  EXPECT_EQ(queue.GetNowaitBatch(5), (std::vector<int>{3, 4, 5, 6, 7}));
}

TEST(QueueTest, ProducerTasksAndConsumerActorsShareAQueue) {
  constexpr int kProducers = 4;
  constexpr int kItemsEach = 50;
  constexpr int kConsumers = 2;
  // Bounded, so that producers also wait for room.
  prism::Queue<int> queue(8);
  std::vector<prism::ObjectRef<int>> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.push_back(prism::Task(QueueProduce).Remote(queue, p * 1000, kItemsEach));
  }
  std::vector<prism::ObjectRef<std::vector<int>>> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    auto consumer = prism::Actor(NewQueueConsumer).Remote();
    consumers.push_back(
        consumer.Task(&QueueConsumer::Take).Remote(queue, kProducers * kItemsEach / kConsumers));
  }
  for (const auto& n : prism::Get(producers)) EXPECT_EQ(*n, kItemsEach);

  std::vector<int> all;
  for (const auto& items : prism::Get(consumers)) {
    // FIFO: each consumer sees every producer's items in the order they were put.
    std::map<int, int> last_by_producer;
    for (int item : *items) {
      auto [it, first] = last_by_producer.emplace(item / 1000, item);
      if (!first) {
        EXPECT_LT(it->second, item);
        it->second = item;
      }
    }
    all.insert(all.end(), items->begin(), items->end());
  }
  std::sort(all.begin(), all.end());
  std::vector<int> expected;
  for (int p = 0; p < kProducers; ++p) {
    for (int i = 0; i < kItemsEach; ++i) expected.push_back(p * 1000 + i);
  }
  EXPECT_EQ(all, expected);
  EXPECT_TRUE(queue.Empty());
}

TEST(QueueTest, CarriesAnySerializableType) {
  prism::Queue<std::string> strings(0);
  strings.Put("hello");
  EXPECT_EQ(strings.Get(), "hello");

  prism::Queue<std::vector<double>> arrays(0);
  arrays.Put(std::vector<double>(1000, 2.5));
  EXPECT_EQ(arrays.Get(), std::vector<double>(1000, 2.5));

  prism::Queue<QueueSample> samples(0);
  samples.PutNowaitBatch({{1, "one"}, {2, "two"}});
  EXPECT_EQ(samples.Get(), (QueueSample{1, "one"}));
  EXPECT_EQ(samples.Get(), (QueueSample{2, "two"}));

  // A queue inside an object.
  prism::Queue<int> ints(0);
  ints.Put(9);
  prism::Queue<int> stored = *prism::Put(ints).Get();
  EXPECT_EQ(stored.Get(), 9);
}

TEST(QueueTest, NamedQueueIsFoundByLookup) {
  // A name of its own for every run of the test (--gtest_repeat): a killed actor's name is
  // released asynchronously.
  static int runs = 0;
  prism::QueueOptions options;
  options.name = "queue-test-named-" + std::to_string(++runs);
  options.maxsize = 3;
  prism::Queue<int> queue(options);
  EXPECT_FALSE(prism::Queue<int>::Lookup("queue-test-no-such-queue").has_value());

  std::optional<prism::Queue<int>> found = prism::Queue<int>::Lookup(options.name);
  ASSERT_TRUE(found.has_value());
  found->Put(5);
  EXPECT_EQ(queue.Get(), 5);

  options.get_if_exists = true;
  options.maxsize = 0;
  prism::Queue<int> same(options);  // the live queue, with its own maxsize
  same.PutNowaitBatch({1, 2, 3});
  EXPECT_TRUE(queue.Full());

  // Items are checked against the type they are read as.
  std::optional<prism::Queue<std::string>> as_strings =
      prism::Queue<std::string>::Lookup(options.name);
  ASSERT_TRUE(as_strings.has_value());
  EXPECT_THROW(as_strings->Get(), prism::SerializationError);
  queue.Shutdown();
}

TEST(QueueTest, ShutdownWakesBlockedCallersWithActorDiedError) {
  prism::Queue<int> queue(0);
  prism::Queue<int> ready(0);
  prism::ObjectRef<int> consumer = prism::Task(QueueTakeOrDied).Remote(queue, ready);
  EXPECT_EQ(ready.Get(true, 30'000), 1);
  prism::Queue<int> copy = queue;
  queue.Shutdown();
  EXPECT_TRUE(queue.IsNil());
  EXPECT_EQ(*consumer.Get(), -1);
  EXPECT_THROW(copy.Put(1), prism::ActorDiedError);
  EXPECT_NO_THROW(copy.Shutdown());  // already shut down through another handle
}

TEST(QueueTest, NilHandleThrows) {
  prism::Queue<int> queue;
  EXPECT_TRUE(queue.IsNil());
  EXPECT_THROW(queue.Put(1), prism::PrismError);
  EXPECT_THROW(queue.Size(), prism::PrismError);
}

}  // namespace
}  // namespace prism_test
