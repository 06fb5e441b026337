// Scheduling decisions per second (issue 5): ClusterView::Pick, the owner-side choice of a rank
// made for every task, on views of 8 to 4,096 ranks. "Under load" every rank has reported its
// CPUs in use and work queued, so DEFAULT finds no rank below the spread threshold and scores
// them all; "idle" it packs onto the owner's rank at once. Items per second = decisions per second.
//
//   build/bin/prism_micro_bench --benchmark_filter=Pick

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "cluster_view.h"
#include "resources.h"

namespace {

using prism::runtime::ClusterView;
using prism::runtime::ResourceReport;
using prism::runtime::ResourceSet;

ResourceSet Node(double cpus, bool special) {
  ResourceSet r;
  (void)r.Set("CPU", cpus);
  (void)r.Set("memory", 64e9);
  if (special) (void)r.Set("special", 1);
  return r;
}

// A view from rank 0 of `ranks` ranks (every fourth with "special"); loaded: each has reported
// all but one CPU busy and 8 tasks queued.
std::unique_ptr<ClusterView> MakeView(int ranks, bool loaded) {
  std::vector<ResourceSet> totals;
  std::vector<std::string> hosts;
  for (int r = 0; r < ranks; ++r) {
    totals.push_back(Node(32, r % 4 == 0));
    hosts.push_back("nid" + std::to_string(r / 4));
  }
  auto view = std::make_unique<ClusterView>(0, totals, hosts, ClusterView::Options{});
  ResourceReport local{1, totals[0], totals[0], 0};
  if (loaded) (void)local.available.Set("CPU", 1);
  if (loaded) local.waiting = 8;
  view->SetLocalSource([local] { return local; });
  if (loaded) {
    for (int r = 1; r < ranks; ++r) {
      ResourceReport report{1, totals[r], totals[r], 8};
      (void)report.available.Set("CPU", 1);
      view->OnReport(r, report);
    }
  }
  return view;
}

void Pick(benchmark::State& state, bool loaded, ClusterView::Request::Kind kind,
          const char* resource) {
  auto view = MakeView(static_cast<int>(state.range(0)), loaded);
  ResourceSet demand;
  (void)demand.Set(resource, 1);
  ClusterView::Request request;
  request.kind = kind;
  for (auto _ : state) {
    ClusterView::Decision d = view->Pick(demand, request);
    benchmark::DoNotOptimize(d.rank);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PickDefaultUnderLoad(benchmark::State& state) {
  Pick(state, true, ClusterView::Request::kDefault, "CPU");
}
void BM_PickDefaultIdle(benchmark::State& state) {
  Pick(state, false, ClusterView::Request::kDefault, "CPU");
}
void BM_PickSpreadUnderLoad(benchmark::State& state) {
  Pick(state, true, ClusterView::Request::kSpread, "CPU");
}
void BM_PickCustomResourceUnderLoad(benchmark::State& state) {
  Pick(state, true, ClusterView::Request::kDefault, "special");
}

BENCHMARK(BM_PickDefaultUnderLoad)->Arg(8)->Arg(64)->Arg(512)->Arg(4096);
BENCHMARK(BM_PickDefaultIdle)->Arg(8)->Arg(64)->Arg(512)->Arg(4096);
BENCHMARK(BM_PickSpreadUnderLoad)->Arg(8)->Arg(64)->Arg(512)->Arg(4096);
BENCHMARK(BM_PickCustomResourceUnderLoad)->Arg(8)->Arg(512);

}  // namespace
