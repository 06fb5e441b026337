// Micro-benchmarks of object serialization (prism::internal::Serialize / Deserialize): an int
// (raw scalar), a ~1 KiB msgpack struct and a 64 MiB std::vector<double> (raw array). No
// prism::Init is needed: object buffers then come from the heap instead of a rank's pool.
//
//   build/bin/prism_micro_bench --benchmark_filter=Serialize

#include <benchmark/benchmark.h>
#include <prism/prism.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

/// A user struct of about 1 KiB once packed: what a small task argument looks like.
struct Sample {
  std::string name;
  std::vector<int64_t> values;
  double weight = 0;
  MSGPACK_DEFINE(name, values, weight)
};

Sample MakeSample() {
  Sample s;
  s.name = std::string(100, 'n');
  // Values above 2^32 pack as 9 bytes each: 100 of them make the struct about 1 KiB.
  for (int64_t i = 0; i < 100; ++i) s.values.push_back((int64_t{1} << 40) + i);
  s.weight = 0.5;
  return s;
}

constexpr size_t kLargeElements = (size_t{64} << 20) / sizeof(double);

void BM_SerializeInt(benchmark::State& state) {
  int value = 42;
  for (auto _ : state) {
    auto buffer = prism::internal::Serialize(value);
    benchmark::DoNotOptimize(buffer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * int64_t{sizeof(int)});
}
BENCHMARK(BM_SerializeInt);

void BM_DeserializeInt(benchmark::State& state) {
  auto buffer = prism::internal::Serialize(42);
  for (auto _ : state) {
    int value = prism::internal::Deserialize<int>(*buffer);
    benchmark::DoNotOptimize(value);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * int64_t{sizeof(int)});
}
BENCHMARK(BM_DeserializeInt);

void BM_SerializeStruct1KiB(benchmark::State& state) {
  Sample sample = MakeSample();
  const auto bytes = static_cast<int64_t>(prism::internal::Serialize(sample)->size());
  for (auto _ : state) {
    auto buffer = prism::internal::Serialize(sample);
    benchmark::DoNotOptimize(buffer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
  state.counters["packed_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SerializeStruct1KiB);

void BM_DeserializeStruct1KiB(benchmark::State& state) {
  auto buffer = prism::internal::Serialize(MakeSample());
  const auto bytes = static_cast<int64_t>(buffer->size());
  for (auto _ : state) {
    Sample sample = prism::internal::Deserialize<Sample>(*buffer);
    benchmark::DoNotOptimize(sample);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}
BENCHMARK(BM_DeserializeStruct1KiB);

void BM_SerializeVector64MiB(benchmark::State& state) {
  std::vector<double> value(kLargeElements, 1.0);
  for (auto _ : state) {
    auto buffer = prism::internal::Serialize(value);
    benchmark::DoNotOptimize(buffer);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kLargeElements * sizeof(double)));
}
BENCHMARK(BM_SerializeVector64MiB)->Unit(benchmark::kMillisecond);

void BM_DeserializeVector64MiB(benchmark::State& state) {
  auto buffer = prism::internal::Serialize(std::vector<double>(kLargeElements, 1.0));
  for (auto _ : state) {
    auto value = prism::internal::Deserialize<std::vector<double>>(*buffer);
    benchmark::DoNotOptimize(value);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(kLargeElements * sizeof(double)));
}
BENCHMARK(BM_DeserializeVector64MiB)->Unit(benchmark::kMillisecond);

}  // namespace
