#include "test_functions.h"

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <thread>

namespace prism_test {

int Identity(int x) { return x; }

int64_t AddInts(int64_t a, int64_t b) { return a + b; }

int RankOf(int) { return prism::GetRuntimeContext().GetRank(); }

int SlowRankOf(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return prism::GetRuntimeContext().GetRank();
}

int Checked(int x) {
  if (x < 0) throw std::invalid_argument("negative input " + std::to_string(x));
  return x;
}

std::string Concat(std::string a, std::string b) { return a + b; }

std::vector<double> Iota(int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  return v;
}

double SumVector(std::vector<double> v) { return std::accumulate(v.begin(), v.end(), 0.0); }

int64_t FanOut(int depth, int width) {
  if (depth == 0) return 1;
  std::vector<prism::ObjectRef<int64_t>> children;
  for (int i = 0; i < width; ++i) children.push_back(prism::Task(FanOut).Remote(depth - 1, width));
  int64_t total = 0;
  for (const auto& v : prism::Get(children)) total += *v;
  return total;
}

int SleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

prism::ObjectRef<int> PutHere(int value) { return prism::Put(value); }

int Deref(prism::ObjectRef<int> ref) { return *ref.Get(); }

std::vector<double> Large(int seed) {
  return std::vector<double>(128 * 1024, static_cast<double>(seed));
}

}  // namespace prism_test

using namespace prism_test;  // NOLINT: registered names stay short
PRISM_REMOTE(Identity, AddInts, RankOf, SlowRankOf, Checked, Concat, Iota, SumVector, FanOut,
             SleepMs, PutHere, Deref, Large);
