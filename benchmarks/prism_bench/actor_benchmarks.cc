#include "actor_benchmarks.h"

#include <prism/prism.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rate.h"
#include "stopwatch.h"

namespace prism::bench {
namespace {

// Calls per actor in one batch of the async measures (as Ray's microbenchmark).
constexpr int kBatchCalls = 1000;
// Actors created in one batch of actor_creations.
constexpr int kCreationBatch = 100;

// The cheapest actor: a call's cost is all Prism's (submit, route, run, return, resolve).
class BenchActor {
 public:
  int Echo(int x) { return x; }
};

BenchActor* NewBenchActor() { return new BenchActor; }

using BenchHandle = ActorHandle<BenchActor>;

// Calls every actor `calls_each` times (Echo(0) .. Echo(calls_each - 1), round robin over the
// actors), all submitted before one Get of all; throws when a result is wrong.
void CallAll(const std::vector<BenchHandle>& actors, int calls_each) {
  std::vector<ObjectRef<int>> refs;
  refs.reserve(actors.size() * static_cast<size_t>(calls_each));
  for (int i = 0; i < calls_each; ++i) {
    for (const BenchHandle& actor : actors) refs.push_back(actor.Task(&BenchActor::Echo).Remote(i));
  }
  std::vector<std::shared_ptr<int>> values = prism::Get(refs);
  for (size_t i = 0; i < values.size(); ++i) {
    if (*values[i] != static_cast<int>(i / actors.size())) {
      throw std::runtime_error("actor calls: wrong result");
    }
  }
}

// An n:n caller: `calls` calls to its own actor; returns `calls`.
int CallOwnActor(BenchHandle actor, int calls) {
  CallAll({std::move(actor)}, calls);
  return calls;
}

PRISM_REMOTE(NewBenchActor, &BenchActor::Echo, CallOwnActor);

std::vector<BenchHandle> NewActors(int n, int max_concurrency) {
  std::vector<BenchHandle> actors;
  actors.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    actors.push_back(prism::Actor(NewBenchActor).SetMaxConcurrency(max_concurrency).Remote());
  }
  return actors;
}

void KillAll(const std::vector<BenchHandle>& actors) {
  for (const BenchHandle& actor : actors) actor.Kill();
}

Summary MeasureSyncRoundTrip(const BenchOptions& options) {
  const int warmup = options.Repetitions(500, 20);
  const int calls = options.Repetitions(20000, 200);
  std::vector<BenchHandle> actors = NewActors(1, 1);
  const BenchHandle& actor = actors.front();
  int64_t checksum = 0;
  for (int i = 0; i < warmup; ++i) checksum += *actor.Task(&BenchActor::Echo).Remote(i).Get();
  std::vector<double> round_trips_us;
  round_trips_us.reserve(static_cast<size_t>(calls));
  for (int i = 0; i < calls; ++i) {
    Stopwatch watch;
    checksum += *actor.Task(&BenchActor::Echo).Remote(i).Get();
    round_trips_us.push_back(watch.ElapsedMicros());
  }
  KillAll(actors);
  const int64_t expected = int64_t{warmup} * (warmup - 1) / 2 + int64_t{calls} * (calls - 1) / 2;
  if (checksum != expected) throw std::runtime_error("1_1_actor_calls_sync: wrong results");
  return Summarize(round_trips_us);
}

// Calls per second of batches from the driver: kBatchCalls to each of `n` actors.
Summary MeasureDriverCalls(const BenchOptions& options, int n, int max_concurrency) {
  std::vector<BenchHandle> actors = NewActors(n, max_concurrency);
  Summary rate = MeasureRate(double{kBatchCalls} * n, options.Repetitions(3, 0),
                             options.Repetitions(41, 2), [&] { CallAll(actors, kBatchCalls); });
  KillAll(actors);
  return rate;
}

// Calls per second of `n` caller tasks making kBatchCalls calls each to their own actor.
Summary MeasureTaskCalls(const BenchOptions& options, int n) {
  std::vector<BenchHandle> actors = NewActors(n, 1);
  auto run = [&] {
    std::vector<ObjectRef<int>> callers;
    for (const BenchHandle& actor : actors) {
      callers.push_back(prism::Task(CallOwnActor).Remote(actor, kBatchCalls));
    }
    prism::Get(callers);
  };
  Summary rate = MeasureRate(double{kBatchCalls} * n, options.Repetitions(2, 0),
                             options.Repetitions(21, 1), run);
  KillAll(actors);
  return rate;
}

// Actors per second: kCreationBatch actors created and each called once (the call returns once
// the actor's factory ran); they are killed after each timed batch.
Summary MeasureCreations(const BenchOptions& options) {
  std::vector<BenchHandle> live;
  return MeasureRate(
      kCreationBatch, options.Repetitions(1, 0), options.Repetitions(21, 1),
      [&] {
        live = NewActors(kCreationBatch, 1);
        CallAll(live, 1);
      },
      [&] {
        KillAll(live);
        live.clear();
      });
}

// Actors per second of Ray's `many_actors` release test shape: `count` actors created, each
// called once (the call returns once its factory ran), then all killed; one timed run.
Summary MeasureManyActors(int count) {
  Stopwatch watch;
  std::vector<BenchHandle> actors = NewActors(count, 1);
  CallAll(actors, 1);
  KillAll(actors);
  return Summarize({count / watch.ElapsedSeconds()});
}

}  // namespace

void RunActorBenchmarks(const BenchOptions& options, const MpiBaselines& mpi, bool cross_rank,
                        ResultSet& results) {
  const int task_ranks = cross_rank ? GetRuntimeContext().GetWorldSize() - 1 : 1;
  const int n = 2 * task_ranks;
  auto add = [&](Record r) {
    if (!cross_rank) {
      r.note += (r.note.empty() ? "" : "; ") +
                std::string("one rank: the actors ran on the driver's own rank");
    }
    results.Add(std::move(r));
  };
  if (options.Selected("1_1_actor_calls_sync")) {
    AddRoundTripRecord(
        "1_1_actor_calls_sync", "host the actor", cross_rank, mpi,
        [&] { return MeasureSyncRoundTrip(options); }, results);
  }
  struct DriverMeasure {
    const char* name;
    int actors;
    int max_concurrency;
  };
  for (const DriverMeasure& m : {DriverMeasure{"1_1_actor_calls_async", 1, 1},
                                 DriverMeasure{"1_1_actor_calls_concurrent", 1, 16},
                                 DriverMeasure{"1_n_actor_calls_async", n, 1}}) {
    if (options.Selected(m.name)) {
      add(MakeRecord(m.name, MeasureDriverCalls(options, m.actors, m.max_concurrency), "calls/s"));
    }
  }
  if (options.Selected("n_n_actor_calls_async")) {
    add(MakeRecord("n_n_actor_calls_async", MeasureTaskCalls(options, n), "calls/s"));
  }
  if (options.Selected("actor_creations")) {
    add(MakeRecord("actor_creations", MeasureCreations(options), "actors/s"));
  }
  if (options.Selected("many_actors_10k")) {
    const int count = options.quick() ? 200 : 10000;
    Record r = MakeRecord("many_actors_10k", MeasureManyActors(count), "actors/s");
    if (options.quick()) r.note = "--quick: 200 actors, not 10 000";
    add(std::move(r));
  }
}

}  // namespace prism::bench
