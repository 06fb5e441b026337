#include "collective_benchmarks.h"

#include <mpi.h>
#include <prism/collective/collective.h>
#include <prism/prism.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include "stats.h"

namespace prism::bench {
namespace {

namespace coll = prism::collective;
using Clock = std::chrono::steady_clock;

constexpr size_t kMiB = size_t{1} << 20;
const std::vector<size_t> kAllReduceSizes = {8,         1024,      64 * 1024, kMiB,
                                             16 * kMiB, 64 * kMiB, 256 * kMiB};
constexpr size_t kMovesBytes = 64 * kMiB;

// Member 0 times each operation. A Broadcast's root (member 0) may return before the others have
// the data (MPI's as Prism's), so a Broadcast is timed with a Barrier after it, on both sides:
// the time until every member has the data.
enum class Kind : int { kAllReduce = 0, kBroadcast = 1, kAllGather = 2 };

struct Measure {
  Kind kind;
  size_t bytes;
  std::string name;
};

// Repetitions by size: many for latency-bound sizes, few for the large ones.
int Reps(const BenchOptions& options, size_t bytes) {
  if (bytes <= 64 * 1024) return options.Repetitions(300, 3);
  if (bytes <= 16 * kMiB) return options.Repetitions(30, 2);
  return options.Repetitions(8, 1);
}

std::vector<Measure> Selected(const BenchOptions& options) {
  std::vector<Measure> out;
  for (size_t bytes : kAllReduceSizes) {
    std::string name = "allreduce_" + SizeLabel(bytes);
    if (options.Selected(name)) out.push_back({Kind::kAllReduce, bytes, name});
  }
  if (options.Selected("broadcast_64MiB")) {
    out.push_back({Kind::kBroadcast, kMovesBytes, "broadcast_64MiB"});
  }
  if (options.Selected("allgather_64MiB")) {
    out.push_back({Kind::kAllGather, kMovesBytes, "allgather_64MiB"});
  }
  return out;
}

std::map<std::string, Summary>& MpiResults() {
  static std::map<std::string, Summary> results;
  return results;
}

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// One measure on one member (the driver or an actor); returns the samples (valid on member 0).
std::vector<double> RunPrism(const Measure& m, int reps, const std::string& group) {
  const int w = coll::GetWorldSize(group);
  const size_t count = std::max<size_t>(1, m.bytes / sizeof(float));
  std::vector<float> data(m.kind == Kind::kAllGather ? count : count, 1.0F);
  std::vector<float> gathered;
  size_t per_member = count / static_cast<size_t>(w);
  if (m.kind == Kind::kAllGather) {
    data.resize(per_member);
    gathered.resize(per_member * static_cast<size_t>(w));
  }
  std::vector<double> samples;
  for (int i = -1; i < reps; ++i) {  // one warm-up
    coll::Barrier(group);
    auto start = Clock::now();
    switch (m.kind) {
      case Kind::kAllReduce:
        coll::AllReduce(data, coll::ReduceOp::kSum, group);
        break;
      case Kind::kBroadcast:
        coll::Broadcast(data, 0, group);
        coll::Barrier(group);  // until every member has the data (see kBroadcast)
        break;
      case Kind::kAllGather:
        coll::AllGather(std::span<const float>(data), std::span<float>(gathered), group);
        break;
    }
    if (i >= 0) samples.push_back(MicrosSince(start));
  }
  return samples;
}

std::vector<double> RunMpi(const Measure& m, int reps) {
  int w = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &w);
  const size_t count = std::max<size_t>(1, m.bytes / sizeof(float));
  std::vector<float> data(count, 1.0F);
  size_t per_member = count / static_cast<size_t>(w);
  std::vector<float> gathered(m.kind == Kind::kAllGather ? per_member * static_cast<size_t>(w) : 0);
  std::vector<double> samples;
  for (int i = -1; i < reps; ++i) {
    MPI_Barrier(MPI_COMM_WORLD);
    auto start = Clock::now();
    switch (m.kind) {
      case Kind::kAllReduce:
        MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                      MPI_COMM_WORLD);
        break;
      case Kind::kBroadcast:
        MPI_Bcast(data.data(), static_cast<int>(count), MPI_FLOAT, 0, MPI_COMM_WORLD);
        MPI_Barrier(MPI_COMM_WORLD);
        break;
      case Kind::kAllGather:
        MPI_Allgather(data.data(), static_cast<int>(per_member), MPI_FLOAT, gathered.data(),
                      static_cast<int>(per_member), MPI_FLOAT, MPI_COMM_WORLD);
        break;
    }
    if (i >= 0) samples.push_back(MicrosSince(start));
  }
  return samples;
}

// Members 1..n-1 of the benchmark group, one per rank.
class CollectiveBenchMember {
 public:
  int Rank() const { return prism::GetRuntimeContext().GetRank(); }
  std::string Run(int world, int index, std::vector<int> kinds, std::vector<int64_t> sizes,
                  std::vector<int> reps) {
    try {
      coll::InitGroup(world, index, coll::Backend::kUcx, "prism-bench");
      for (size_t i = 0; i < kinds.size(); ++i) {
        Measure m{static_cast<Kind>(kinds[i]), static_cast<size_t>(sizes[i]), ""};
        RunPrism(m, reps[i], "prism-bench");
      }
      coll::DestroyGroup("prism-bench");
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
};

CollectiveBenchMember* CreateCollectiveBenchMember() { return new CollectiveBenchMember(); }

}  // namespace
}  // namespace prism::bench

PRISM_REMOTE(prism::bench::CreateCollectiveBenchMember, &prism::bench::CollectiveBenchMember::Rank,
             &prism::bench::CollectiveBenchMember::Run);

namespace prism::bench {

const std::vector<std::string>& CollectiveMeasureNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (size_t bytes : kAllReduceSizes) out.push_back("allreduce_" + SizeLabel(bytes));
    out.emplace_back("broadcast_64MiB");
    out.emplace_back("allgather_64MiB");
    return out;
  }();
  return names;
}

void MeasureMpiCollectives(const BenchOptions& options) {
  int w = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &w);
  if (w < 2) return;
  for (const Measure& m : Selected(options)) {
    MpiResults()[m.name] = Summarize(RunMpi(m, Reps(options, m.bytes)));
  }
}

void RunCollectiveBenchmarks(const BenchOptions& options, int world_size, ResultSet& results) {
  std::vector<Measure> measures = Selected(options);
  if (measures.empty()) return;
  if (world_size < 2) {
    results.AddNote("collective measures skipped: they need at least two ranks");
    return;
  }
  // One actor on each rank 1..n-1 (rank 0, the driver, is member 0).
  std::vector<ActorHandle<CollectiveBenchMember>> members;
  std::set<int> placed;
  for (int attempt = 0;
       attempt < 20 * world_size && static_cast<int>(members.size()) < world_size - 1; ++attempt) {
    auto a = prism::Actor(CreateCollectiveBenchMember).Remote();
    if (a.rank() != 0 && placed.insert(a.rank()).second) {
      members.push_back(a);
    } else {
      a.Kill();
    }
  }
  if (static_cast<int>(members.size()) != world_size - 1) {
    results.AddNote("collective measures skipped: could not place one member on every rank");
    return;
  }
  std::vector<int> kinds;
  std::vector<int64_t> sizes;
  std::vector<int> reps;
  for (const Measure& m : measures) {
    kinds.push_back(static_cast<int>(m.kind));
    sizes.push_back(static_cast<int64_t>(m.bytes));
    reps.push_back(Reps(options, m.bytes));
  }
  std::vector<ObjectRef<std::string>> done;
  for (int i = 0; i < world_size - 1; ++i) {
    done.push_back(members[static_cast<size_t>(i)]
                       .Task(&CollectiveBenchMember::Run)
                       .Remote(world_size, i + 1, kinds, sizes, reps));
  }
  coll::InitGroup(world_size, 0, coll::Backend::kUcx, "prism-bench");
  for (const Measure& m : measures) {
    Record r =
        MakeRecord(m.name, Summarize(RunPrism(m, Reps(options, m.bytes), "prism-bench")), "us");
    r.repetitions = static_cast<size_t>(Reps(options, m.bytes));
    r.ranks = world_size;
    auto mpi = MpiResults().find(m.name);
    if (mpi != MpiResults().end()) {
      static const std::map<Kind, std::string> kMpiName = {{Kind::kAllReduce, "mpi_allreduce_"},
                                                           {Kind::kBroadcast, "mpi_bcast_"},
                                                           {Kind::kAllGather, "mpi_allgather_"}};
      r.baseline_name = kMpiName.at(m.kind) + SizeLabel(m.bytes);
      r.baseline_value = mpi->second.median;
    }
    results.Add(std::move(r));
  }
  coll::DestroyGroup("prism-bench");
  for (auto& d : prism::Get(done, 600'000)) {
    if (!d->empty()) throw std::runtime_error("collective benchmark member failed: " + *d);
  }
}

}  // namespace prism::bench
