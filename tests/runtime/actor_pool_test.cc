// prism::ActorPool: result order, queueing beyond the pool's size, Map, idle actors, errors.

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace prism_test {
namespace {

using Clock = std::chrono::steady_clock;

// A pool member that doubles values after a delay and counts its calls.
class PoolWorker {
 public:
  int Double(int value, int delay_ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ++calls_;
    return 2 * value;
  }
  void Record(int value) {
    ++calls_;
    total_ += value;
  }
  int Fail(int value) { throw std::invalid_argument("refused " + std::to_string(value)); }
  int Calls() { return calls_; }
  int Total() { return total_; }

 private:
  int calls_ = 0;
  int total_ = 0;
};

PoolWorker* NewPoolWorker() { return new PoolWorker; }

PRISM_REMOTE(NewPoolWorker, &PoolWorker::Double, &PoolWorker::Record, &PoolWorker::Fail,
             &PoolWorker::Calls, &PoolWorker::Total);

using Worker = prism::ActorHandle<PoolWorker>;
// (value, delay in ms)
using Job = std::pair<int, int>;

std::vector<Worker> NewWorkers(int n) {
  std::vector<Worker> workers;
  for (int i = 0; i < n; ++i) workers.push_back(prism::Actor(NewPoolWorker).Remote());
  return workers;
}

prism::ObjectRef<int> DoubleJob(const Worker& worker, Job job) {
  return worker.Task(&PoolWorker::Double).Remote(job.first, job.second);
}

prism::ObjectRef<int> DoubleNow(const Worker& worker, int value) {
  return worker.Task(&PoolWorker::Double).Remote(value, 0);
}

TEST(ActorPoolTest, GetNextReturnsResultsInSubmissionOrder) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(3));
  // The first submission finishes last.
  pool.Submit(DoubleJob, Job{1, 600});
  pool.Submit(DoubleJob, Job{2, 300});
  pool.Submit(DoubleJob, Job{3, 0});
  EXPECT_EQ(pool.GetNext<int>(), 2);
  EXPECT_EQ(pool.GetNext<int>(), 4);
  EXPECT_EQ(pool.GetNext<int>(), 6);
  EXPECT_FALSE(pool.HasNext());
}

TEST(ActorPoolTest, GetNextUnorderedReturnsResultsAsTheyFinish) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(2));
  auto start = Clock::now();
  pool.Submit(DoubleJob, Job{1, 3000});
  pool.Submit(DoubleJob, Job{2, 0});
  EXPECT_EQ(pool.GetNextUnordered<int>(), 4);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(2500));
  EXPECT_EQ(pool.GetNextUnordered<int>(), 2);
}

TEST(ActorPoolTest, QueuesSubmissionsBeyondThePoolSize) {
  std::vector<Worker> workers = NewWorkers(2);
  prism::ActorPool<PoolWorker> pool(workers);
  EXPECT_TRUE(pool.HasFree());
  for (int i = 0; i < 10; ++i) pool.Submit(DoubleJob, Job{i, 20});
  EXPECT_FALSE(pool.HasFree());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool.HasNext());
    EXPECT_EQ(pool.GetNext<int>(), 2 * i);
  }
  EXPECT_FALSE(pool.HasNext());
  EXPECT_TRUE(pool.HasFree());
  // Every submission ran once, and both actors took part.
  int first = *workers[0].Task(&PoolWorker::Calls).Remote().Get();
  int second = *workers[1].Task(&PoolWorker::Calls).Remote().Get();
  EXPECT_EQ(first + second, 10);
  EXPECT_GT(first, 0);
  EXPECT_GT(second, 0);
}

TEST(ActorPoolTest, MapKeepsTheOrderOfValues) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(3));
  std::vector<int> values;
  std::vector<int> expected;
  for (int i = 0; i < 20; ++i) {
    values.push_back(i);
    expected.push_back(2 * i);
  }
  EXPECT_EQ(pool.Map(DoubleNow, values), expected);
  EXPECT_FALSE(pool.HasNext());
}

TEST(ActorPoolTest, MapUnorderedReturnsResultsAsTheyFinish) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(2));
  // One actor is busy with the slow job while the other runs the two fast ones.
  std::vector<int> results =
      pool.MapUnordered(DoubleJob, std::vector<Job>{{0, 3000}, {1, 0}, {2, 0}});
  EXPECT_EQ(results, (std::vector<int>{2, 4, 0}));
}

TEST(ActorPoolTest, MapDropsEarlierSubmissions) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(1));
  for (int i = 0; i < 5; ++i) pool.Submit(DoubleNow, i);  // one runs, four wait
  EXPECT_EQ(pool.Map(DoubleNow, std::vector<int>{7}), std::vector<int>{14});
  EXPECT_FALSE(pool.HasNext());
  // The actor is back in the pool.
  EXPECT_TRUE(pool.PopIdle().has_value());
  EXPECT_FALSE(pool.HasFree());
}

TEST(ActorPoolTest, GetNextTimesOutAndKeepsTheCall) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(1));
  pool.Submit(DoubleJob, Job{1, 1500});
  auto start = Clock::now();
  EXPECT_THROW(pool.GetNext<int>(50), prism::GetTimeoutError);
  EXPECT_THROW(pool.GetNextUnordered<int>(50), prism::GetTimeoutError);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1400));
  ASSERT_TRUE(pool.HasNext());
  EXPECT_EQ(pool.GetNext<int>(10'000), 2);
}

TEST(ActorPoolTest, FetchingWithNothingSubmittedThrows) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(1));
  EXPECT_FALSE(pool.HasNext());
  EXPECT_THROW(pool.GetNext<int>(), prism::PrismError);
  EXPECT_THROW(pool.GetNextUnordered<int>(), prism::PrismError);
}

TEST(ActorPoolTest, PopIdleAndPushMoveActorsInAndOut) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(2));
  std::optional<Worker> a = pool.PopIdle();
  std::optional<Worker> b = pool.PopIdle();
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_FALSE(pool.HasFree());
  EXPECT_FALSE(pool.PopIdle().has_value());

  pool.Submit(DoubleNow, 5);  // no actor: it waits
  EXPECT_FALSE(pool.HasNext());
  pool.Push(*a);  // takes the waiting submission at once
  EXPECT_TRUE(pool.HasNext());
  EXPECT_THROW(pool.Push(*a), prism::PrismError);  // busy member
  EXPECT_EQ(pool.GetNext<int>(), 10);
  EXPECT_THROW(pool.Push(*a), prism::PrismError);  // idle member
  pool.Push(*b);
  EXPECT_TRUE(pool.HasFree());
}

TEST(ActorPoolTest, ErrorsReachTheCallerAndFreeTheActor) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(1));
  pool.Submit([](const Worker& w, int v) { return w.Task(&PoolWorker::Fail).Remote(v); }, 3);
  pool.Submit(DoubleNow, 4);  // waits for the actor
  try {
    pool.GetNext<int>();
    ADD_FAILURE() << "expected prism::TaskError";
  } catch (const prism::TaskError& e) {
    EXPECT_NE(e.message().find("refused 3"), std::string::npos) << e.what();
  }
  EXPECT_EQ(pool.GetNext<int>(), 8);
  EXPECT_TRUE(pool.HasFree());
}

TEST(ActorPoolTest, CallsWithoutResultAreFetchedAsVoid) {
  std::vector<Worker> workers = NewWorkers(2);
  prism::ActorPool<PoolWorker> pool(workers);
  auto record = [](const Worker& w, int v) { return w.Task(&PoolWorker::Record).Remote(v); };
  for (int i = 1; i <= 4; ++i) pool.Submit(record, i);
  while (pool.HasNext()) pool.GetNextUnordered<void>();
  int total = 0;
  for (const Worker& w : workers) total += *w.Task(&PoolWorker::Total).Remote().Get();
  EXPECT_EQ(total, 1 + 2 + 3 + 4);
}

TEST(ActorPoolTest, ReadingAResultAsAnotherTypeThrows) {
  prism::ActorPool<PoolWorker> pool(NewWorkers(1));
  pool.Submit(DoubleNow, 1);
  EXPECT_THROW(pool.GetNext<std::string>(), prism::SerializationError);
  EXPECT_TRUE(pool.HasFree());
}

}  // namespace
}  // namespace prism_test
