// parameter_server: a parameter-server actor holds a linear model (y = w·x + b, 10 features);
// workers compute gradients on shards of synthetic data, synchronously (the driver steps every
// worker together) and asynchronously (each worker pulls and pushes on its own).
//
//   ./build/bin/parameter_server [num_workers] [iterations]
//   mpirun -n 4 ./build/bin/parameter_server 4 100

#include <prism/prism.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <vector>

namespace {

constexpr int kFeatures = 10;
constexpr size_t kRowsPerShard = 1000;
constexpr size_t kRowSize = kFeatures + 1;  // the inputs, then the target
constexpr double kNoise = 0.1;
constexpr double kLearningRate = 0.1;
// The noise alone leaves a loss of kNoise² = 0.01; a trained model gets close to it.
constexpr double kConvergedLoss = 0.02;

// Weights and gradients: kFeatures coefficients, then the bias.
using Weights = std::vector<double>;
using Gradient = std::vector<double>;
// Rows of kRowSize values, stored flat (a raw object: cheap to move).
using Shard = std::vector<double>;

double Predict(const Weights& weights, const double* x) {
  double y = weights[kFeatures];
  for (int j = 0; j < kFeatures; ++j) y += weights[j] * x[j];
  return y;
}

}  // namespace

// The gradient of the mean squared error over `shard`.
Gradient ComputeGradient(const Shard& shard, const Weights& weights) {
  Gradient gradient(kFeatures + 1, 0.0);
  size_t rows = shard.size() / kRowSize;
  for (size_t r = 0; r < rows; ++r) {
    const double* x = &shard[r * kRowSize];
    double scale = 2.0 * (Predict(weights, x) - x[kFeatures]) / static_cast<double>(rows);
    for (int j = 0; j < kFeatures; ++j) gradient[j] += scale * x[j];
    gradient[kFeatures] += scale;
  }
  return gradient;
}

// Holds the model. An actor runs one call at a time, so the weights need no lock.
class ParameterServer {
 public:
  explicit ParameterServer(double learning_rate)
      : weights_(kFeatures + 1, 0.0), learning_rate_(learning_rate) {}

  Weights GetWeights() { return weights_; }

  // One gradient step with the mean of `gradients`; returns the new weights.
  Weights ApplyGradients(const std::vector<Gradient>& gradients) {
    for (const Gradient& gradient : gradients) {
      for (size_t j = 0; j < weights_.size(); ++j) {
        weights_[j] -= learning_rate_ * gradient[j] / static_cast<double>(gradients.size());
      }
    }
    return weights_;
  }

 private:
  Weights weights_;
  double learning_rate_;
};

ParameterServer* CreateParameterServer(double learning_rate) {
  return new ParameterServer(learning_rate);
}

// An asynchronous worker: pulls the newest weights, pushes its gradient, `steps` times. The
// server applies each push as it arrives, so a gradient may be a few updates stale.
void AsyncWorker(const prism::ActorHandle<ParameterServer>& server, const Shard& shard, int steps) {
  prism::ObjectRef<Weights> applied;
  for (int s = 0; s < steps; ++s) {
    std::shared_ptr<Weights> weights = server.Task(&ParameterServer::GetWeights).Remote().Get();
    applied = server.Task(&ParameterServer::ApplyGradients)
                  .Remote(std::vector<Gradient>{ComputeGradient(shard, *weights)});
  }
  // Calls from one caller run in order: once the last push is applied, all of them are.
  applied.Get();
}

PRISM_REMOTE(CreateParameterServer, &ParameterServer::GetWeights, &ParameterServer::ApplyGradients,
             ComputeGradient, AsyncWorker);

namespace {

// Synthetic data from a fixed seed: y = w·x + b + noise, x ~ N(0, 1).
std::vector<Shard> MakeShards(int num_shards) {
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal(0.0, 1.0);
  Weights truth(kFeatures + 1);
  for (double& w : truth) w = normal(rng);
  std::vector<Shard> shards(num_shards, Shard(kRowsPerShard * kRowSize));
  for (Shard& shard : shards) {
    for (size_t r = 0; r < kRowsPerShard; ++r) {
      double* row = &shard[r * kRowSize];
      for (int j = 0; j < kFeatures; ++j) row[j] = normal(rng);
      row[kFeatures] = Predict(truth, row) + kNoise * normal(rng);
    }
  }
  return shards;
}

double Loss(const std::vector<Shard>& shards, const Weights& weights) {
  double sum = 0.0;
  size_t rows = 0;
  for (const Shard& shard : shards) {
    for (size_t i = 0; i < shard.size(); i += kRowSize) {
      double error = Predict(weights, &shard[i]) - shard[i + kFeatures];
      sum += error * error;
      ++rows;
    }
  }
  return sum / static_cast<double>(rows);
}

// Each iteration every worker computes a gradient on the same weights (a task per shard), and
// the server applies their mean: plain data-parallel gradient descent.
Weights TrainSync(const std::vector<prism::ObjectRef<Shard>>& shards, int iterations) {
  auto server = prism::Actor(CreateParameterServer).Remote(kLearningRate);
  prism::ObjectRef<Weights> weights = server.Task(&ParameterServer::GetWeights).Remote();
  for (int i = 0; i < iterations; ++i) {
    std::vector<prism::ObjectRef<Gradient>> refs;
    refs.reserve(shards.size());
    // ObjectRef arguments reach the task as values, fetched from wherever they live.
    for (const auto& shard : shards) {
      refs.push_back(prism::Task(ComputeGradient).Remote(shard, weights));
    }
    std::vector<Gradient> gradients;
    gradients.reserve(refs.size());
    for (const auto& gradient : prism::Get(refs)) gradients.push_back(std::move(*gradient));
    weights = server.Task(&ParameterServer::ApplyGradients).Remote(gradients);
  }
  return *weights.Get();
}

// Every worker trains at its own pace against the shared server. Each push is one worker's share
// of a synchronous step, computed on weights up to num_workers - 1 updates old: a step of
// 1/num_workers keeps stale gradients from overshooting, at any number of workers.
Weights TrainAsync(const std::vector<prism::ObjectRef<Shard>>& shards, int iterations) {
  double learning_rate = kLearningRate / static_cast<double>(shards.size());
  auto server = prism::Actor(CreateParameterServer).Remote(learning_rate);
  std::vector<prism::ObjectRef<void>> workers;
  workers.reserve(shards.size());
  for (const auto& shard : shards) {
    workers.push_back(prism::Task(AsyncWorker).Remote(server, shard, iterations));
  }
  for (const auto& worker : workers) worker.Get();
  return *server.Task(&ParameterServer::GetWeights).Remote().Get();
}

// Runs one variant, prints its loss and time; returns whether it converged.
template <typename Train>
bool Run(const char* variant, Train train, const std::vector<Shard>& data,
         const std::vector<prism::ObjectRef<Shard>>& shards, int iterations) {
  auto start = std::chrono::steady_clock::now();
  Weights weights = train(shards, iterations);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  double loss = Loss(data, weights);
  bool converged = loss < kConvergedLoss;
  std::cout << std::fixed << std::setprecision(4) << variant << ": loss " << loss << " after "
            << iterations << " iterations in " << std::setprecision(2) << elapsed.count() << " s"
            << (converged ? "" : "  FAILED: not converged") << "\n";
  return converged;
}

}  // namespace

int main(int argc, char** argv) {
  prism::Init(argc, argv);  // ranks >= 1 host actors and run tasks from here on
  int num_workers = argc > 1 ? std::atoi(argv[1]) : 4;
  int iterations = argc > 2 ? std::atoi(argv[2]) : 100;
  if (num_workers <= 0 || iterations <= 0) {
    std::cerr << "usage: parameter_server [num_workers > 0] [iterations > 0]\n";
    prism::Shutdown();
    return 2;
  }

  std::vector<Shard> data = MakeShards(num_workers);
  // Each shard is stored once; tasks on any rank read it by reference.
  std::vector<prism::ObjectRef<Shard>> shards;
  shards.reserve(data.size());
  for (const Shard& shard : data) shards.push_back(prism::Put(shard));
  std::cout << num_workers << " workers, " << kRowsPerShard << " rows each, "
            << prism::GetRuntimeContext().GetWorldSize() << " ranks; loss "
            << Loss(data, Weights(kFeatures + 1, 0.0)) << " at zero weights, target < "
            << kConvergedLoss << "\n";

  bool ok = Run("synchronous ", TrainSync, data, shards, iterations);
  ok = Run("asynchronous", TrainAsync, data, shards, iterations) && ok;
  prism::Shutdown();
  return ok ? 0 : 1;
}
