// Micro-benchmarks of the wire codec (prism::WireWriter / WireReader): a task-submission-like
// message (ids, a function name, counters) with an inline payload of 64 B, 4 KiB and 64 KiB.
//
//   build/bin/prism_micro_bench --benchmark_filter=Wire

#include <benchmark/benchmark.h>
#include <prism/common/wire.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

/// Appends one message with `payload` as its inline argument to what `w` writes.
void EncodeMessage(prism::WireWriter& w, const std::vector<std::byte>& payload) {
  prism::TaskId task;
  task.owner = 1;
  task.seq = 123456789;
  prism::ObjectId result;
  result.owner = 1;
  result.index = 7;
  result.seq = 987654321;
  w.Task(task);
  w.String("prism::bench::SomeRemoteFunction");
  w.U32(2);  // arguments
  w.Object(result);
  w.Bool(true);
  w.F64(1.0);  // CPU
  w.I64(-1);   // timeout
  w.Bytes(payload);
}

/// Decodes what EncodeMessage wrote; false when it is malformed.
bool DecodeMessage(std::span<const std::byte> in, size_t* payload_bytes) {
  prism::WireReader r(in);
  prism::TaskId task = r.Task();
  std::string function = r.String();
  uint32_t arguments = r.U32();
  prism::ObjectId result = r.Object();
  bool flag = r.Bool();
  double cpu = r.F64();
  int64_t timeout = r.I64();
  std::span<const std::byte> payload = r.Bytes();
  benchmark::DoNotOptimize(task);
  benchmark::DoNotOptimize(function);
  benchmark::DoNotOptimize(arguments);
  benchmark::DoNotOptimize(result);
  benchmark::DoNotOptimize(flag);
  benchmark::DoNotOptimize(cpu);
  benchmark::DoNotOptimize(timeout);
  *payload_bytes = payload.size();
  return r.AtEnd();
}

void BM_WireEncode(benchmark::State& state) {
  std::vector<std::byte> payload(static_cast<size_t>(state.range(0)), std::byte{7});
  std::vector<std::byte> out;
  for (auto _ : state) {
    out.clear();  // keeps the capacity, as a sender reusing its buffer does
    prism::WireWriter w(out);
    EncodeMessage(w, payload);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(out.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));  // messages
}
BENCHMARK(BM_WireEncode)->Arg(64)->Arg(4096)->Arg(65536);

void BM_WireDecode(benchmark::State& state) {
  std::vector<std::byte> payload(static_cast<size_t>(state.range(0)), std::byte{7});
  std::vector<std::byte> message;
  prism::WireWriter w(message);
  EncodeMessage(w, payload);
  for (auto _ : state) {
    size_t payload_bytes = 0;
    if (!DecodeMessage(message, &payload_bytes) || payload_bytes != payload.size()) {
      state.SkipWithError("wire message did not decode");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(message.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));  // messages
}
BENCHMARK(BM_WireDecode)->Arg(64)->Arg(4096)->Arg(65536);

}  // namespace
