#pragma once
// Remote functions shared by the runtime tests (registered in test_functions.cc).

#include <prism/prism.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prism_test {

int Identity(int x);
int64_t AddInts(int64_t a, int64_t b);
int RankOf(int ignored);
/// Sleeps `ms`, then returns the rank it ran on.
int SlowRankOf(int ms);
/// Fails with std::invalid_argument when x is negative.
int Checked(int x);
std::string Concat(std::string a, std::string b);
/// A vector of n doubles, value i at index i.
std::vector<double> Iota(int64_t n);
double SumVector(std::vector<double> v);
/// Sum computed by tasks fanning out `width` per level, `depth` levels deep.
int64_t FanOut(int depth, int width);
/// Sleeps, then returns ms.
int SleepMs(int ms);
/// Puts `value` on the rank running the task and returns the reference.
prism::ObjectRef<int> PutHere(int value);
/// Reads the object behind a reference passed as a reference (not resolved).
int Deref(prism::ObjectRef<int> ref);
/// Returns a 1 MiB vector: large enough to stay in the executor's store.
std::vector<double> Large(int seed);

}  // namespace prism_test
