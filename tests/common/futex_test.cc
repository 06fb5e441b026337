#include "prism/common/futex.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "prism/common/clock.h"

namespace prism {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

pid_t ThreadId() { return static_cast<pid_t>(syscall(SYS_gettid)); }

// The scheduler state of one of our threads ('R' running, 'S' sleeping, ...).
char ThreadState(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return '?';
  return line[close + 2];
}

// Waits (without sleeping) until `tid` is blocked in the kernel, or `limit` passes.
bool WaitUntilAsleep(pid_t tid, milliseconds limit) {
  auto end = steady_clock::now() + limit;
  while (steady_clock::now() < end) {
    if (ThreadState(tid) == 'S') return true;
    std::this_thread::yield();
  }
  return false;
}

TEST(EventTest, NotifyWakesASleeperFromAnotherThread) {
  Event event;
  std::atomic<bool> ready{false};
  std::atomic<pid_t> sleeper_tid{0};
  std::atomic<bool> returned{false};
  std::thread sleeper([&] {
    sleeper_tid = ThreadId();
    // A sleep long enough that only a wakeup can end it within the test's bound.
    while (!ready.load()) event.Sleep([&] { return ready.load(); }, 30'000'000'000);
    returned = true;
  });
  while (sleeper_tid.load() == 0) std::this_thread::yield();
  // No ASSERT here: the sleeper must be released and joined whatever happens.
  EXPECT_TRUE(WaitUntilAsleep(sleeper_tid.load(), milliseconds(10000)));
  EXPECT_FALSE(returned.load());
  auto start = steady_clock::now();
  ready = true;
  event.Notify();
  sleeper.join();
  EXPECT_TRUE(returned.load());
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
}

TEST(EventTest, NotifyOneWakesASleeper) {
  Event event;
  std::atomic<bool> ready{false};
  std::atomic<pid_t> sleeper_tid{0};
  std::thread sleeper([&] {
    sleeper_tid = ThreadId();
    while (!ready.load()) event.Sleep([&] { return ready.load(); }, 30'000'000'000);
  });
  while (sleeper_tid.load() == 0) std::this_thread::yield();
  EXPECT_TRUE(WaitUntilAsleep(sleeper_tid.load(), milliseconds(10000)));
  auto start = steady_clock::now();
  ready = true;
  event.NotifyOne();
  sleeper.join();
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
}

TEST(EventTest, SleepReturnsAtItsTimeout) {
  Event event;
  auto start = steady_clock::now();
  event.Sleep([] { return false; }, 20'000'000);
  auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(19));  // futex timeouts are relative and never early
  EXPECT_LT(elapsed, milliseconds(3000));
}

TEST(EventTest, SleepDoesNotBlockWhenAlreadyReady) {
  Event event;
  int calls = 0;
  auto start = steady_clock::now();
  event.Sleep(
      [&] {
        ++calls;
        return true;
      },
      -1);  // no timeout: a missed check would hang here
  EXPECT_EQ(calls, 1);
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
}

TEST(EventTest, NotifyWithoutSleepersIsHarmless) {
  Event event;
  for (int i = 0; i < 1000; ++i) event.Notify();
  auto start = steady_clock::now();
  event.Sleep([] { return false; }, 1'000'000);  // earlier notifications do not count as wakeups
  EXPECT_GE(steady_clock::now() - start, milliseconds(1));
}

// Two threads hand a turn back and forth 10 000 times, each sleeping on its own Event. Every
// sleep has a 2 s limit; a sleep that ends by timing out with the turn still not ours is a lost
// wakeup.
TEST(EventTest, PingPongLosesNoWakeup) {
  constexpr uint64_t kRounds = 10000;
  constexpr int64_t kSleepLimitNs = 2'000'000'000;
  std::atomic<uint64_t> turn{0};
  Event events[2];
  std::atomic<int> lost{0};
  auto player = [&](int me) {
    for (uint64_t round = 0; round < kRounds; ++round) {
      uint64_t mine = 2 * round + static_cast<uint64_t>(me);
      while (turn.load() != mine) {
        int64_t start = NowNanos();
        events[me].Sleep([&] { return turn.load() == mine; }, kSleepLimitNs);
        if (turn.load() != mine && NowNanos() - start >= kSleepLimitNs) ++lost;
        if (lost.load() > 0) return;
      }
      turn.store(mine + 1);
      events[1 - me].Notify();
    }
  };
  auto start = steady_clock::now();
  std::thread a(player, 0);
  std::thread b(player, 1);
  a.join();
  b.join();
  EXPECT_EQ(lost.load(), 0);
  EXPECT_EQ(turn.load(), 2 * kRounds);
  EXPECT_LT(steady_clock::now() - start, milliseconds(15000));
}

TEST(FutexTest, WaitReturnsAtOnceWhenTheWordDiffers) {
  std::atomic<uint32_t> word{5};
  auto start = steady_clock::now();
  FutexWait(word, 4, -1);  // no timeout: would hang if it slept
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
}

TEST(FutexTest, WakeAllReleasesEverySleeper) {
  std::atomic<uint32_t> word{0};
  std::atomic<pid_t> tids[3] = {0, 0, 0};
  std::thread sleepers[3];
  for (int i = 0; i < 3; ++i) {
    sleepers[i] = std::thread([&, i] {
      tids[i] = ThreadId();
      while (word.load() == 0) FutexWait(word, 0, 30'000'000'000);
    });
  }
  for (auto& tid : tids) {
    while (tid.load() == 0) std::this_thread::yield();
    EXPECT_TRUE(WaitUntilAsleep(tid.load(), milliseconds(10000)));
  }
  auto start = steady_clock::now();
  word.store(1);
  FutexWakeAll(word);
  for (auto& t : sleepers) t.join();
  EXPECT_LT(steady_clock::now() - start, milliseconds(5000));
}

}  // namespace
}  // namespace prism
