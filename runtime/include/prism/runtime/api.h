#pragma once
/// Prism's core calls: Init/Shutdown, Put, Get, Wait (the seed's ray:: calls under prism::).
///
///   int main(int argc, char** argv) {
///     prism::Init(argc, argv);               // ranks >= 1 serve tasks here and never return
///     auto ref = prism::Put(std::vector<double>(1 << 20, 1.0));
///     auto sum = prism::Task(Sum).Remote(ref);
///     std::cout << *sum.Get() << "\n";
///     prism::Shutdown();
///   }
///
/// Run it as `./app` (a one-rank cluster), or `mpirun -n N ./app` / `srun -n N ./app`.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "prism/runtime/config.h"
#include "prism/runtime/object_ref.h"
#include "prism/runtime/shared_span.h"

namespace prism {

/// Starts Prism (collective over the ranks of the launcher). On rank 0 it returns: this process
/// is the driver. On every other rank it serves tasks until the driver shuts down or dies, then
/// exits the process. Throws PrismError on bad configuration (naming the setting) or when Prism
/// is already initialised. argv may carry --prism-<setting>=<value> options.
void Init();
void Init(int argc, char** argv);
void Init(const Config& config);
void Init(const Config& config, int argc, char** argv);

/// Stops the job: every scheduler rank finishes and exits. Idempotent. Also runs at exit when
/// the driver forgets it.
void Shutdown();

/// True between Init and Shutdown.
bool IsInitialized();

/// Stores `value` as an object owned by this rank (a copy; the object is immutable).
template <typename T>
ObjectRef<std::decay_t<T>> Put(const T& value) {
  using V = std::decay_t<T>;
  internal::CheckInitialized("prism::Put");
  return ObjectRef<V>::Adopt(internal::Put(internal::Serialize<V>(value)));
}

/// Waits for the value (as ref.Get()).
template <typename T>
auto Get(const ObjectRef<T>& ref) {
  return ref.Get();
}

/// Waits at most `timeout_ms` milliseconds; throws prism::GetTimeoutError after that.
template <typename T>
auto Get(const ObjectRef<T>& ref, int64_t timeout_ms) {
  return ref.Get(timeout_ms);
}

/// Waits for all values (fetched in parallel); results in the order of `refs`.
template <typename T>
std::vector<std::shared_ptr<T>> Get(const std::vector<ObjectRef<T>>& refs,
                                    int64_t timeout_ms = -1) {
  std::vector<ObjectId> ids;
  ids.reserve(refs.size());
  for (const auto& r : refs) ids.push_back(r.ID());
  std::vector<internal::BufferPtr> buffers = internal::GetObjects(ids, timeout_ms);
  std::vector<std::shared_ptr<T>> out;
  out.reserve(buffers.size());
  for (const auto& b : buffers) out.push_back(std::make_shared<T>(internal::Deserialize<T>(*b)));
  return out;
}

/// Zero-copy read of a raw array object: a read-only view into the local store (the object is
/// fetched first if it lives elsewhere); the view keeps the bytes alive.
template <typename E>
SharedSpan<const E> GetSpan(const ObjectRef<std::vector<E>>& ref, int64_t timeout_ms = -1) {
  static_assert(internal::RawScalar<E>, "prism::GetSpan needs a vector of raw scalars");
  internal::BufferPtr buffer = internal::GetObjects({ref.ID()}, timeout_ms).front();
  internal::CheckReadable<std::vector<E>>(*buffer);
  auto data = buffer->data();
  return SharedSpan<const E>(buffer, reinterpret_cast<const E*>(data.data()),
                             data.size() / sizeof(E));
}

/// Ready and not-yet-ready references, each in the order given to Wait.
template <typename T>
struct WaitResult {
  std::vector<ObjectRef<T>> ready;
  std::vector<ObjectRef<T>> unready;
};

/// Returns once `num_objects` of `refs` are ready or `timeout_ms` passed (< 0: no limit).
/// num_objects == 0 returns at once with the current split. Throws PrismError when
/// num_objects > refs.size().
template <typename T>
WaitResult<T> Wait(const std::vector<ObjectRef<T>>& refs, int num_objects, int64_t timeout_ms) {
  std::vector<ObjectId> ids;
  ids.reserve(refs.size());
  for (const auto& r : refs) ids.push_back(r.ID());
  std::vector<bool> ready = internal::WaitObjects(ids, num_objects, timeout_ms);
  WaitResult<T> result;
  for (size_t i = 0; i < refs.size(); ++i)
    (ready[i] ? result.ready : result.unready).push_back(refs[i]);
  return result;
}

/// Facts about the current job, rank and task.
class RuntimeContext {
 public:
  /// The job's id (16 hex digits).
  std::string GetJobId() const;
  /// The job's namespace (Config::job_namespace, or an anonymous UUID).
  std::string GetNamespace() const;
  /// This rank's node id (a rank is a node of the cluster; 32 hex digits).
  std::string GetNodeId() const;
  /// This process's rank; rank 0 is the driver.
  int GetRank() const;
  /// Ranks in the job.
  int GetWorldSize() const;
  /// The running task's id (24 hex digits); on the driver, its own task id.
  std::string GetTaskId() const;
  /// Host name of this rank.
  std::string GetHostname() const;
  /// This job's session directory (logs and other files of the job).
  std::string GetSessionDir() const;
  /// The actor whose method the calling thread runs (24 hex digits); empty outside actors.
  std::string GetActorId() const;
  /// True inside an actor that was restarted (its factory ran more than once).
  bool WasCurrentActorRestarted() const;
  /// The GPU ids (as in CUDA_VISIBLE_DEVICES) of the running task or actor; empty when it asked
  /// for no GPU. Same as prism::GetGpuIds().
  std::vector<std::string> GetGpuIds() const;
};

/// Throws PrismError when Prism is not initialised.
RuntimeContext GetRuntimeContext();

/// The job's total resources (name -> amount, e.g. "CPU" -> 8), summed over its live ranks.
std::unordered_map<std::string, double> ClusterResources();

/// The job's namespace (as GetRuntimeContext().GetNamespace()).
std::string GetNamespace();

}  // namespace prism
