// Data-parallel training with collectives: N actors each hold a shard of a linear-regression
// data set, compute the gradient of the mean squared error on their shard, and AllReduce the
// gradients every step, so that every replica applies the same update (the pattern of
// torch DistributedDataParallel / Ray Train, with prism::collective).
//
//   mpirun -n 4 build/bin/allreduce_sgd [actors=4] [steps=300]
//
// The data are y = x . w_true + noise (noise standard deviation 0.1). The program checks that the
// replicas agree, that the final loss is within 10% of the noise floor (0.01) and that the
// weights are within 0.02 of w_true; it exits non-zero otherwise.

#include <prism/collective/collective.h>
#include <prism/prism.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>
#include <vector>

namespace coll = prism::collective;

namespace {

constexpr int kFeatures = 8;
constexpr int kSamplesPerShard = 2000;
constexpr double kNoise = 0.1;

std::vector<double> TrueWeights() {
  std::vector<double> w(kFeatures + 1);  // last: bias
  for (int i = 0; i <= kFeatures; ++i) w[static_cast<size_t>(i)] = 0.5 * i - 1.5;
  return w;
}

class Replica {
 public:
  explicit Replica(int shard) {
    std::mt19937_64 rng(1234 + static_cast<uint64_t>(shard));
    std::normal_distribution<double> x_dist(0.0, 1.0);
    std::normal_distribution<double> noise(0.0, kNoise);
    std::vector<double> w = TrueWeights();
    x_.resize(static_cast<size_t>(kSamplesPerShard) * kFeatures);
    y_.resize(kSamplesPerShard);
    for (int s = 0; s < kSamplesPerShard; ++s) {
      double y = w[kFeatures];
      for (int f = 0; f < kFeatures; ++f) {
        double x = x_dist(rng);
        x_[static_cast<size_t>(s) * kFeatures + static_cast<size_t>(f)] = x;
        y += w[static_cast<size_t>(f)] * x;
      }
      y_[static_cast<size_t>(s)] = y + noise(rng);
    }
  }

  // Trains for `steps` steps on group `group`; returns {final loss, weights...}.
  std::vector<double> Train(std::string group, int steps, double learning_rate) {
    const int n = coll::GetWorldSize(group);
    std::vector<double> w(kFeatures + 1, 0.0);
    double loss = 0;
    for (int step = 0; step <= steps; ++step) {
      // Gradient of the mean squared error on this shard, plus the shard's loss in the last slot.
      std::vector<double> grad(kFeatures + 2, 0.0);
      for (int s = 0; s < kSamplesPerShard; ++s) {
        const double* x = &x_[static_cast<size_t>(s) * kFeatures];
        double err = w[kFeatures] - y_[static_cast<size_t>(s)];
        for (int f = 0; f < kFeatures; ++f) err += w[static_cast<size_t>(f)] * x[f];
        for (int f = 0; f < kFeatures; ++f) grad[static_cast<size_t>(f)] += 2 * err * x[f];
        grad[kFeatures] += 2 * err;
        grad[kFeatures + 1] += err * err;
      }
      coll::AllReduce(grad, coll::ReduceOp::kSum, group);
      const double total = static_cast<double>(n) * kSamplesPerShard;
      loss = grad[kFeatures + 1] / total;
      if (step == steps) break;
      for (int f = 0; f <= kFeatures; ++f) {
        w[static_cast<size_t>(f)] -= learning_rate * grad[static_cast<size_t>(f)] / total;
      }
    }
    std::vector<double> out{loss};
    out.insert(out.end(), w.begin(), w.end());
    return out;
  }

 private:
  std::vector<double> x_;
  std::vector<double> y_;
};

Replica* CreateReplica(int shard) { return new Replica(shard); }

}  // namespace

PRISM_REMOTE(CreateReplica, &Replica::Train);

int main(int argc, char** argv) {
  prism::Init(argc, argv);
  int actors = argc > 1 ? std::atoi(argv[1]) : 4;
  int steps = argc > 2 ? std::atoi(argv[2]) : 300;
  if (actors < 1 || steps < 1) {
    std::cerr << "usage: allreduce_sgd [actors>=1] [steps>=1]\n";
    prism::Shutdown();
    return 2;
  }
  std::vector<prism::ActorHandle<Replica>> replicas;
  for (int i = 0; i < actors; ++i) replicas.push_back(prism::Actor(CreateReplica).Remote(i));
  // Declared from the driver: each replica joins as member i on its first collective.
  coll::CreateGroup(replicas, coll::Backend::kUcx, "sgd");
  std::vector<prism::ObjectRef<std::vector<double>>> results;
  for (auto& r : replicas) {
    results.push_back(r.Task(&Replica::Train).Remote(std::string("sgd"), steps, 0.05));
  }
  auto got = prism::Get(results, 600'000);
  coll::DestroyGroup("sgd");

  bool ok = true;
  const std::vector<double>& first = *got[0];
  for (size_t i = 1; i < got.size(); ++i) {
    if (*got[i] != first) {
      std::cout << "replica " << i << " disagrees with replica 0\n";
      ok = false;
    }
  }
  double loss = first[0];
  std::vector<double> truth = TrueWeights();
  double max_error = 0;
  for (int f = 0; f <= kFeatures; ++f) {
    max_error = std::max(
        max_error, std::abs(first[static_cast<size_t>(f) + 1] - truth[static_cast<size_t>(f)]));
  }
  std::cout << actors << " replicas, " << steps << " steps: loss " << loss << " (noise floor "
            << kNoise * kNoise << "), largest weight error " << max_error << "\n";
  if (loss > 1.1 * kNoise * kNoise || max_error > 0.02) ok = false;
  std::cout << (ok ? "converged" : "did NOT converge") << "\n";
  prism::Shutdown();
  return ok ? 0 : 1;
}
