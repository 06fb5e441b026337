// Actors across ranks: creation, ordering, handle passing, names and namespaces, concurrency,
// errors, Kill / ExitActor / restarts and the owner's handle collection (FEATURES.md ACT-*).

#include <gtest/gtest.h>
#include <prism/prism.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "test_functions.h"

namespace actor_test {

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  int Increment() { return ++value_; }
  int Add(int n) { return value_ += n; }
  int Value() const { return value_; }
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }
  /// Returns `expected` when it is this caller's next number (calls ran in submission order),
  /// -1 otherwise.
  int64_t Next(std::string caller, int64_t expected) {
    int64_t& last = last_[caller];
    if (expected != last + 1) return -1;
    return last = expected;
  }
  int SleepThenIncrement(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ++value_;
  }
  int Throw() { throw std::invalid_argument("no such thing"); }
  int Exit() { prism::ExitActor(); }
  std::string ActorId() const { return prism::GetRuntimeContext().GetActorId(); }
  bool Restarted() const { return prism::GetRuntimeContext().WasCurrentActorRestarted(); }

 private:
  int value_;
  std::map<std::string, int64_t> last_;
};

Counter* CreateCounter(int start) { return new Counter(start); }

Counter* CreateBrokenCounter(int) { throw std::runtime_error("bad config: no start value"); }

/// Counts how many of its calls run at once.
class Gauge {
 public:
  int Enter(int ms) {
    int now = ++running_;
    int seen = max_.load();
    while (now > seen && !max_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    --running_;
    return now;
  }
  int MaxSeen() const { return max_.load(); }
  int Quick() const { return 1; }

 private:
  std::atomic<int> running_{0};
  std::atomic<int> max_{0};
};

std::unique_ptr<Gauge> CreateGauge() { return std::make_unique<Gauge>(); }

/// Tells `witness` (by one Increment) when it is destroyed.
class Tracked {
 public:
  explicit Tracked(prism::ActorHandle<Counter> witness) : witness_(std::move(witness)) {}
  ~Tracked() { witness_.Task(&Counter::Increment).Remote(); }
  int Ping() const { return 1; }

 private:
  prism::ActorHandle<Counter> witness_;
};

Tracked* CreateTracked(prism::ActorHandle<Counter> witness) { return new Tracked(witness); }

/// Calls the counter after passing its handle through `hops` more tasks.
int IncrementAfterHops(prism::ActorHandle<Counter> counter, int hops) {
  if (hops > 0) return *prism::Task(IncrementAfterHops).Remote(counter, hops - 1).Get();
  return *counter.Task(&Counter::Increment).Remote().Get();
}

prism::ActorHandle<Counter> MakeCounter(int start) {
  return prism::Actor(CreateCounter).Remote(start);
}

int SumOfCounters(std::vector<prism::ActorHandle<Counter>> counters) {
  int sum = 0;
  for (auto& c : counters) sum += *c.Task(&Counter::Value).Remote().Get();
  return sum;
}

/// -1 when absent in the job's namespace, else its value.
int ValueOfNamed(std::string name) {
  auto found = prism::GetActor<Counter>(name);
  return found ? *found->Task(&Counter::Value).Remote().Get() : -1;
}

int ValueOfNamedIn(std::string name, std::string name_space) {
  auto found = prism::GetActor<Counter>(name, name_space);
  return found ? *found->Task(&Counter::Value).Remote().Get() : -1;
}

int ValueOfGlobal(std::string name) {
  auto found = prism::GetGlobalActor<Counter>(name);
  return found ? *found->Task(&Counter::Value).Remote().Get() : -1;
}

/// Calls `counter` n times as caller `caller`; true when every call ran in order.
bool CallInOrder(prism::ActorHandle<Counter> counter, std::string caller, int n) {
  std::vector<prism::ObjectRef<int64_t>> refs;
  for (int i = 1; i <= n; ++i) refs.push_back(counter.Task(&Counter::Next).Remote(caller, i));
  auto values = prism::Get(refs);
  for (int i = 0; i < n; ++i) {
    if (*values[i] != i + 1) return false;
  }
  return true;
}

}  // namespace actor_test

PRISM_REMOTE(actor_test::CreateCounter, actor_test::CreateBrokenCounter,
             &actor_test::Counter::Increment, &actor_test::Counter::Add,
             &actor_test::Counter::Value, &actor_test::Counter::Rank, &actor_test::Counter::Next,
             &actor_test::Counter::SleepThenIncrement, &actor_test::Counter::Throw,
             &actor_test::Counter::Exit, &actor_test::Counter::ActorId,
             &actor_test::Counter::Restarted);
PRISM_REMOTE(actor_test::CreateGauge, &actor_test::Gauge::Enter, &actor_test::Gauge::MaxSeen,
             &actor_test::Gauge::Quick);
PRISM_REMOTE(actor_test::CreateTracked, &actor_test::Tracked::Ping);
PRISM_REMOTE(actor_test::IncrementAfterHops, actor_test::MakeCounter, actor_test::SumOfCounters,
             actor_test::ValueOfNamed, actor_test::ValueOfNamedIn, actor_test::ValueOfGlobal,
             actor_test::CallInOrder);

namespace actor_test {
namespace {

int World() { return prism::GetRuntimeContext().GetWorldSize(); }

// A unique name per test run (the directory outlives a test case).
std::string Unique(const std::string& base) {
  static std::atomic<int> n{0};
  return base + "-" + std::to_string(n++);
}

TEST(Actors, CallsOnOneActorRunInOrderAndShareState) {
  auto counter = prism::Actor(CreateCounter).Remote(1);
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 5; ++i) refs.push_back(counter.Task(&Counter::Increment).Remote());
  std::vector<int> values;
  for (const auto& v : prism::Get(refs)) values.push_back(*v);
  EXPECT_EQ(values, (std::vector<int>{2, 3, 4, 5, 6}));
}

TEST(Actors, CallsThatOvertakeTheCreationWaitForTheConstructor) {
  // The creation waits at the owner for its argument; the calls, which need nothing, reach the
  // actor's rank first.
  prism::ObjectRef<int> start = prism::Task(prism_test::SleepMs).Remote(300);
  auto counter = prism::Actor(CreateCounter).Remote(start);
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 3; ++i) refs.push_back(counter.Task(&Counter::Increment).Remote());
  std::vector<int> values;
  for (const auto& v : prism::Get(refs)) values.push_back(*v);
  EXPECT_EQ(values, (std::vector<int>{301, 302, 303}));
}

TEST(Actors, DifferentActorsHaveTheirOwnState) {
  std::vector<prism::ActorHandle<Counter>> counters;
  for (int i = 0; i < 10; ++i) counters.push_back(prism::Actor(CreateCounter).Remote(0));
  std::vector<prism::ObjectRef<int>> refs;
  for (auto& c : counters) refs.push_back(c.Task(&Counter::Increment).Remote());
  for (const auto& v : prism::Get(refs)) EXPECT_EQ(*v, 1);
}

TEST(Actors, ThousandActorsSpreadAndKeepPerCallerOrder) {
  constexpr int kActors = 1000;
  constexpr int kCalls = 100;
  std::vector<prism::ActorHandle<Counter>> actors;
  actors.reserve(kActors);
  for (int i = 0; i < kActors; ++i) actors.push_back(prism::Actor(CreateCounter).Remote(0));
  std::vector<prism::ObjectRef<int64_t>> refs;
  refs.reserve(kActors * kCalls);
  for (int call = 1; call <= kCalls; ++call) {
    for (auto& a : actors) refs.push_back(a.Task(&Counter::Next).Remote("driver", call));
  }
  auto values = prism::Get(refs);
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(*values[i], static_cast<int64_t>(i / kActors) + 1)
        << "call " << i << " ran out of order";
  }
  std::set<int> ranks;
  std::vector<prism::ObjectRef<int>> where;
  for (auto& a : actors) where.push_back(a.Task(&Counter::Rank).Remote());
  for (const auto& r : prism::Get(where)) ranks.insert(*r);
  EXPECT_EQ(static_cast<int>(ranks.size()), World()) << "actors did not spread over every rank";
}

TEST(Actors, CallersOnOtherRanksEachKeepTheirOrder) {
  auto counter = prism::Actor(CreateCounter).Remote(0);
  std::vector<prism::ObjectRef<bool>> callers;
  for (int i = 0; i < 4; ++i) {
    callers.push_back(prism::Task(CallInOrder).Remote(counter, "task-" + std::to_string(i), 200));
  }
  EXPECT_TRUE(CallInOrder(counter, "driver", 200));
  for (const auto& ok : prism::Get(callers)) EXPECT_TRUE(*ok);
}

TEST(Actors, HandlePassedThroughThreeHopsStillWorks) {
  auto counter = prism::Actor(CreateCounter).Remote(10);
  EXPECT_EQ(*prism::Task(IncrementAfterHops).Remote(counter, 3).Get(), 11);
  EXPECT_EQ(*counter.Task(&Counter::Value).Remote().Get(), 11);
}

TEST(Actors, HandlesReturnedFromTasksAndStoredInObjects) {
  prism::ActorHandle<Counter> made = *prism::Task(MakeCounter).Remote(41).Get();
  EXPECT_EQ(*made.Task(&Counter::Increment).Remote().Get(), 42);
  auto stored = prism::Put(std::vector<prism::ActorHandle<Counter>>{made, made});
  EXPECT_EQ(*prism::Task(SumOfCounters).Remote(stored).Get(), 84);
}

TEST(Actors, NamedActorsAreFoundFromTasksOnOtherRanks) {
  std::string name = Unique("named");
  auto counter = prism::Actor(CreateCounter).SetName(name).Remote(7);
  EXPECT_EQ(*prism::Task(ValueOfNamed).Remote(name).Get(), 7);
  auto found = prism::GetActor<Counter>(name);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->ID(), counter.ID());
  EXPECT_FALSE(prism::GetActor<Counter>(Unique("absent")).has_value());
}

TEST(Actors, NamesAreScopedByNamespace) {
  std::string name = Unique("scoped");
  auto colors = prism::Actor(CreateCounter).SetName(name, "colors").Remote(3);
  // Not visible from the job's namespace, nor as a global name.
  EXPECT_EQ(*prism::Task(ValueOfNamed).Remote(name).Get(), -1);
  EXPECT_EQ(*prism::Task(ValueOfGlobal).Remote(name).Get(), -1);
  EXPECT_EQ(*prism::Task(ValueOfNamedIn).Remote(name, "colors").Get(), 3);
  // The same name is free in another namespace.
  auto fruits = prism::Actor(CreateCounter).SetName(name, "fruits").Remote(5);
  EXPECT_EQ(*prism::Task(ValueOfNamedIn).Remote(name, "fruits").Get(), 5);
  EXPECT_NE(colors.ID(), fruits.ID());
}

TEST(Actors, GlobalNamesAreSeenFromEveryNamespace) {
  std::string name = Unique("global");
  auto counter = prism::Actor(CreateCounter).SetGlobalName(name).Remote(9);
  EXPECT_EQ(*prism::Task(ValueOfGlobal).Remote(name).Get(), 9);
  EXPECT_EQ(*prism::Task(ValueOfNamed).Remote(name).Get(), -1);  // not a namespace name
}

TEST(Actors, TakenNameFailsClearlyOrGetsTheExistingActor) {
  std::string name = Unique("taken");
  auto first = prism::Actor(CreateCounter).SetName(name).Remote(1);
  try {
    prism::Actor(CreateCounter).SetName(name).Remote(2);
    FAIL() << "a taken name was accepted";
  } catch (const prism::PrismError& e) {
    EXPECT_NE(std::string(e.what()).find("already taken"), std::string::npos) << e.what();
  }
  auto again = prism::Actor(CreateCounter).SetName(name).SetGetIfExists().Remote(2);
  EXPECT_EQ(again.ID(), first.ID());
  EXPECT_EQ(*again.Task(&Counter::Value).Remote().Get(), 1);      // its arguments were ignored
  EXPECT_THROW(prism::GetActor<Gauge>(name), prism::PrismError);  // wrong class
}

TEST(Actors, KilledNameCanBeReused) {
  std::string name = Unique("reuse");
  auto first = prism::Actor(CreateCounter).SetName(name).Remote(1);
  EXPECT_EQ(*first.Task(&Counter::Value).Remote().Get(), 1);
  first.Kill();
  // The name is released asynchronously by the actor's rank.
  for (int i = 0; i < 200 && prism::GetActor<Counter>(name).has_value(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto second = prism::Actor(CreateCounter).SetName(name).Remote(2);
  EXPECT_EQ(*second.Task(&Counter::Value).Remote().Get(), 2);
}

TEST(Actors, ThreadedActorRunsMaxConcurrencyCallsAtOnce) {
  auto gauge = prism::Actor(CreateGauge).SetMaxConcurrency(8).Remote();
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 16; ++i) refs.push_back(gauge.Task(&Gauge::Enter).Remote(300));
  prism::Get(refs);
  EXPECT_EQ(*gauge.Task(&Gauge::MaxSeen).Remote().Get(), 8);
}

TEST(Actors, SingleThreadedActorRunsOneCallAtATime) {
  auto gauge = prism::Actor(CreateGauge).Remote();
  std::vector<prism::ObjectRef<int>> refs;
  for (int i = 0; i < 4; ++i) refs.push_back(gauge.Task(&Gauge::Enter).Remote(20));
  prism::Get(refs);
  EXPECT_EQ(*gauge.Task(&Gauge::MaxSeen).Remote().Get(), 1);
}

TEST(Actors, SlowConcurrencyGroupDoesNotBlockAnother) {
  auto gauge = prism::Actor(CreateGauge)
                   .SetConcurrencyGroups({prism::ConcurrencyGroup("io", 1).AddMethod(&Gauge::Enter),
                                          prism::ConcurrencyGroup("compute", 2)})
                   .Remote();
  auto slow = gauge.Task(&Gauge::Enter).Remote(2000);
  auto slow_too = gauge.Task(&Gauge::Enter).Remote(2000);  // queued behind it in "io"
  auto fast = gauge.Task(&Gauge::Quick).Remote();          // default group
  auto picked = gauge.Task(&Gauge::Quick).SetConcurrencyGroup("compute").Remote();
  EXPECT_EQ(*fast.Get(1500), 1);
  EXPECT_EQ(*picked.Get(1500), 1);
  EXPECT_EQ(prism::Wait(std::vector{slow}, 1, 0).ready.size(), 0u) << "the io group finished early";
  prism::Get(std::vector{slow, slow_too});
  auto unknown = gauge.Task(&Gauge::Quick).SetConcurrencyGroup("nope").Remote();
  EXPECT_THROW(unknown.Get(), prism::TaskError);
}

TEST(Actors, MethodThatThrowsFailsOnlyThatCall) {
  auto counter = prism::Actor(CreateCounter).Remote(0);
  auto bad = counter.Task(&Counter::Throw).Remote();
  try {
    bad.Get();
    FAIL() << "no error";
  } catch (const prism::TaskError& e) {
    EXPECT_EQ(e.message(), "no such thing");
    EXPECT_EQ(e.exception_type(), "std::invalid_argument");
  }
  EXPECT_EQ(*counter.Task(&Counter::Increment).Remote().Get(), 1);
}

TEST(Actors, ConstructorThatThrowsFailsEveryCall) {
  auto broken = prism::Actor(CreateBrokenCounter).Remote(0);
  for (int i = 0; i < 3; ++i) {
    try {
      broken.Task(&Counter::Increment).Remote().Get();
      FAIL() << "a call on a broken actor succeeded";
    } catch (const prism::ActorDiedError& e) {
      EXPECT_NE(std::string(e.what()).find("bad config: no start value"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Actors, KillFailsRunningQueuedAndLaterCalls) {
  auto counter = prism::Actor(CreateCounter).Remote(0);
  EXPECT_EQ(*counter.Task(&Counter::Increment).Remote().Get(), 1);
  auto running = counter.Task(&Counter::SleepThenIncrement).Remote(500);
  auto queued = counter.Task(&Counter::Increment).Remote();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  counter.Kill();
  EXPECT_THROW(running.Get(), prism::ActorDiedError);
  EXPECT_THROW(queued.Get(), prism::ActorDiedError);
  try {
    counter.Task(&Counter::Increment).Remote().Get();
    FAIL() << "a killed actor ran a call";
  } catch (const prism::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("Kill()"), std::string::npos) << e.what();
  }
}

TEST(Actors, KillWithoutNoRestartRestartsWhileRestartsAreLeft) {
  auto counter = prism::Actor(CreateCounter).SetMaxRestarts(1).Remote(0);
  EXPECT_EQ(*counter.Task(&Counter::Add).Remote(5).Get(), 5);
  EXPECT_FALSE(*counter.Task(&Counter::Restarted).Remote().Get());
  counter.Kill(/*no_restart=*/false);
  EXPECT_EQ(*counter.Task(&Counter::Increment).Remote().Get(), 1);  // a fresh instance
  EXPECT_TRUE(*counter.Task(&Counter::Restarted).Remote().Get());
  counter.Kill(/*no_restart=*/false);  // no restart left
  EXPECT_THROW(counter.Task(&Counter::Increment).Remote().Get(), prism::ActorDiedError);
}

TEST(Actors, ExitActorEndsTheActorAfterEarlierCalls) {
  auto counter = prism::Actor(CreateCounter).Remote(0);
  auto before = counter.Task(&Counter::Increment).Remote();
  auto exit = counter.Task(&Counter::Exit).Remote();
  auto after = counter.Task(&Counter::Increment).Remote();
  EXPECT_EQ(*before.Get(), 1);
  try {
    exit.Get();
    FAIL() << "ExitActor returned a value";
  } catch (const prism::ActorDiedError& e) {
    EXPECT_NE(std::string(e.what()).find("ExitActor"), std::string::npos) << e.what();
  }
  EXPECT_THROW(after.Get(), prism::ActorDiedError);
  EXPECT_THROW(prism::ExitActor(), prism::PrismError);  // not inside an actor
}

TEST(Actors, RuntimeContextNamesTheCurrentActor) {
  auto counter = prism::Actor(CreateCounter).Remote(0);
  EXPECT_EQ(*counter.Task(&Counter::ActorId).Remote().Get(), counter.ID().Hex());
  EXPECT_EQ(prism::GetRuntimeContext().GetActorId(), "");
  EXPECT_FALSE(prism::GetRuntimeContext().WasCurrentActorRestarted());
}

TEST(Actors, OwnerDroppingEveryHandleEndsTheActor) {
  auto witness = prism::Actor(CreateCounter).Remote(0);
  {
    std::vector<prism::ActorHandle<Tracked>> tracked;
    for (int i = 0; i < 3; ++i) tracked.push_back(prism::Actor(CreateTracked).Remote(witness));
    for (auto& t : tracked) EXPECT_EQ(*t.Task(&Tracked::Ping).Remote().Get(), 1);
  }
  int destroyed = 0;
  for (int i = 0; i < 500 && destroyed < 3; ++i) {
    destroyed = *witness.Task(&Counter::Value).Remote().Get();
    if (destroyed < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(destroyed, 3);
}

TEST(Actors, BadOptionsAndUnplaceableActorsFailAtOnce) {
  EXPECT_THROW(prism::Actor(CreateGauge).SetMaxConcurrency(0).Remote(), prism::PrismError);
  EXPECT_THROW(prism::Actor(CreateGauge).SetGetIfExists().Remote(), prism::PrismError);
  try {
    prism::Actor(CreateGauge).SetResource("GPU", 1).Remote();
    FAIL() << "an actor needing a GPU was placed on a cluster without one";
  } catch (const prism::ActorUnschedulableError& e) {
    EXPECT_NE(std::string(e.what()).find("'GPU'"), std::string::npos) << e.what();
  }
  prism::ActorHandle<Counter> empty;
  EXPECT_THROW(empty.Task(&Counter::Increment), prism::PrismError);
}

}  // namespace
}  // namespace actor_test
