// The public API (prism/runtime/api.h) and the entry points its templates call
// (prism/runtime/internal/core.h), on top of CoreRuntime.

#include "prism/runtime/api.h"

#include <fmt/format.h>

#include "core_runtime.h"
#include "memory_monitor.h"
#include "prism/runtime/actor.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/gpu.h"
#include "prism/runtime/internal/core.h"
#include "prism/runtime/remote.h"
#include "task_context.h"
#include "worker_pool.h"

namespace prism {
namespace {

std::shared_ptr<runtime::CoreRuntime> Need(const char* api) {
  return runtime::CoreRuntime::Require(api);
}

// Calls a task makes into Prism are where the memory monitor can stop it (memory_monitor.h).
std::shared_ptr<runtime::CoreRuntime> NeedInTask(const char* api) {
  auto rt = Need(api);
  runtime::MemoryMonitor::CheckCurrentTask();
  return rt;
}

}  // namespace

void Init() { runtime::CoreRuntime::Initialize(Config{}, 0, nullptr); }
void Init(int argc, char** argv) { runtime::CoreRuntime::Initialize(Config{}, argc, argv); }
void Init(const Config& config) { runtime::CoreRuntime::Initialize(config, 0, nullptr); }
void Init(const Config& config, int argc, char** argv) {
  runtime::CoreRuntime::Initialize(config, argc, argv);
}
void Shutdown() { runtime::CoreRuntime::Finalize(); }
bool IsInitialized() { return runtime::CoreRuntime::Current() != nullptr; }

RuntimeContext GetRuntimeContext() {
  Need("prism::GetRuntimeContext");
  return RuntimeContext();
}

std::unordered_map<std::string, double> ClusterResources() {
  const runtime::ResourceSet total = Need("prism::ClusterResources")->ClusterCapacity();
  std::unordered_map<std::string, double> out;
  for (const auto& [name, units] : total.entries()) out[name] = total.Amount(name);
  return out;
}

std::string GetNamespace() { return Need("prism::GetNamespace")->job().job_namespace; }

std::string RuntimeContext::GetJobId() const {
  return Need("RuntimeContext::GetJobId")->job().job_id.Hex();
}
std::string RuntimeContext::GetNamespace() const {
  return Need("RuntimeContext::GetNamespace")->job().job_namespace;
}
std::string RuntimeContext::GetNodeId() const {
  auto rt = Need("RuntimeContext::GetNodeId");
  return rt->NodeId(rt->rank());
}
int RuntimeContext::GetRank() const { return Need("RuntimeContext::GetRank")->rank(); }
int RuntimeContext::GetWorldSize() const { return Need("RuntimeContext::GetWorldSize")->size(); }
std::string RuntimeContext::GetTaskId() const {
  auto rt = Need("RuntimeContext::GetTaskId");
  TaskId id = runtime::CurrentTaskId();
  if (id.IsNil()) id = TaskId{rt->rank(), 0};  // the driver's (or a rank's main thread's) own task
  return id.Hex();
}
std::string RuntimeContext::GetHostname() const {
  return Need("RuntimeContext::GetHostname")->hostname();
}
std::string RuntimeContext::GetSessionDir() const {
  return Need("RuntimeContext::GetSessionDir")->job().session_dir;
}

std::vector<std::string> RuntimeContext::GetGpuIds() const {
  Need("RuntimeContext::GetGpuIds");
  return prism::GetGpuIds();
}

std::string RuntimeContext::GetActorId() const {
  Need("RuntimeContext::GetActorId");
  const ActorId& id = runtime::CurrentActor().id;
  return id.IsNil() ? std::string() : id.Hex();
}
bool RuntimeContext::WasCurrentActorRestarted() const {
  Need("RuntimeContext::WasCurrentActorRestarted");
  return runtime::CurrentActor().restarted;
}

void ExitActor() {
  Need("prism::ExitActor");
  if (runtime::CurrentActor().id.IsNil()) {
    throw PrismError(
        "prism::ExitActor called outside an actor (only an actor's methods may end it)");
  }
  throw runtime::ActorExitRequest{};
}

namespace internal {

void CheckInitialized(const char* api) { Need(api); }

BufferPtr AllocateObject(size_t size, std::span<const std::byte> metadata) {
  auto rt = runtime::CoreRuntime::Current();
  return ObjectBuffer::Create(rt ? rt->pool() : nullptr, size, metadata);
}

void AddLocalRef(const ObjectId& id) {
  if (auto rt = runtime::CoreRuntime::Current()) rt->objects().AddLocalRef(id);
}
void RemoveLocalRef(const ObjectId& id) {
  if (auto rt = runtime::CoreRuntime::Current()) rt->objects().RemoveLocalRef(id);
}
void OnRefSerialized(const ObjectId& id) {
  if (RefCollector* collector = RefCollector::Current()) {
    collector->Add(id);
  } else if (auto rt = runtime::CoreRuntime::Current()) {
    rt->objects().OnRefSerializedOutOfBand(id);
  }
}

namespace {
thread_local RefCollector* g_collector = nullptr;

// Releases the local references a collector took, when the buffer holding them goes.
struct ContainedHold {
  ContainedHold() = default;
  ContainedHold(const ContainedHold&) = delete;
  ContainedHold& operator=(const ContainedHold&) = delete;
  std::vector<ObjectId> ids;
  ~ContainedHold() {
    for (const ObjectId& id : ids) RemoveLocalRef(id);
  }
};
}  // namespace

RefCollector::RefCollector() : previous_(g_collector) { g_collector = this; }
RefCollector::~RefCollector() {
  g_collector = previous_;
  for (const ObjectId& id : ids_) RemoveLocalRef(id);  // not attached (an exception)
}
RefCollector* RefCollector::Current() { return g_collector; }
void RefCollector::Add(const ObjectId& id) {
  AddLocalRef(id);
  ids_.push_back(id);
}
void RefCollector::AttachTo(ObjectBuffer& buffer) {
  if (ids_.empty()) return;
  auto hold = std::make_shared<ContainedHold>();
  hold->ids = ids_;  // the references move from this collector to the hold
  buffer.SetContainedRefs(std::move(ids_), std::move(hold));
  ids_.clear();
}
void OnRefDeserialized(const ObjectId& id) {
  if (auto rt = runtime::CoreRuntime::Current()) rt->objects().OnRefDeserialized(id);
}

ObjectId Put(BufferPtr buffer) {
  return NeedInTask("prism::Put")->objects().Put(std::move(buffer));
}

ObjectId SubmitTask(const std::string& function, std::vector<TaskArg> args,
                    const TaskOptions& options) {
  return NeedInTask("prism::Task(...).Remote")->tasks().Submit(function, std::move(args), options);
}

ActorRef CreateActor(const std::string& factory, const std::string& class_tag,
                     std::vector<TaskArg> args, const ActorOptions& options) {
  return Need("prism::Actor(...).Remote")
      ->actors()
      .Create(factory, class_tag, std::move(args), options);
}

ObjectId SubmitActorTask(const ActorRef& actor, const std::string& method,
                         std::vector<TaskArg> args, const ActorCallOptions& options) {
  return NeedInTask("ActorHandle::Task(...).Remote")
      ->actors()
      .Call(actor, method, std::move(args), options);
}

void KillActor(const ActorRef& actor, bool no_restart) {
  Need("ActorHandle::Kill")->actors().Kill(actor, no_restart);
}

std::optional<ActorRef> LookupActor(const std::string& name, const std::string& name_space,
                                    bool global, const std::string& class_tag) {
  return Need(global ? "prism::GetGlobalActor" : "prism::GetActor")
      ->actors()
      .Lookup(name, name_space, global, class_tag);
}

void AddActorHandleRef(const ActorId& id) {
  if (auto rt = runtime::CoreRuntime::Current()) rt->actors().AddHandleRef(id);
}
void RemoveActorHandleRef(const ActorId& id) {
  if (auto rt = runtime::CoreRuntime::Current()) rt->actors().RemoveHandleRef(id);
}
void OnActorHandleSerialized(const ActorId& id) {
  if (auto rt = runtime::CoreRuntime::Current()) rt->actors().OnHandleSerialized(id);
}

std::vector<BufferPtr> GetObjects(const std::vector<ObjectId>& ids, int64_t timeout_ms) {
  auto rt = NeedInTask("prism::Get");
  runtime::WorkerPool::BlockedScope lend_cpu;  // a task blocked here lends its CPU
  return rt->objects().Get(ids, timeout_ms);
}

std::vector<bool> WaitObjects(const std::vector<ObjectId>& ids, int num_objects,
                              int64_t timeout_ms) {
  auto rt = NeedInTask("prism::Wait");
  runtime::WorkerPool::BlockedScope lend_cpu;
  return rt->objects().Wait(ids, num_objects, timeout_ms);
}

FunctionRegistry& FunctionRegistry::Instance() {
  static FunctionRegistry* registry = new FunctionRegistry();  // used during static init and exit
  return *registry;
}

void FunctionRegistry::Add(RemoteFunction fn, std::string key) {
  std::lock_guard lock(mu_);
  const std::string& name = fn.name;
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {
    auto same = name_by_key_.find(key);
    if (same != name_by_key_.end() && same->second == name) return;  // the same function again
    std::fprintf(
        stderr,
        "prism: PRISM_REMOTE: the name '%s' is registered for two different functions; qualify one "
        "of them (ns::%s)\n",
        name.c_str(), name.c_str());
    std::abort();
  }
  name_by_key_.emplace(std::move(key), name);
  std::string owned_name = name;
  by_name_.emplace(std::move(owned_name), std::make_unique<RemoteFunction>(std::move(fn)));
}

const RemoteFunction* FunctionRegistry::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

const std::string* FunctionRegistry::NameOf(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = name_by_key_.find(key);
  return it == name_by_key_.end() ? nullptr : &it->second;
}

std::vector<std::string> FunctionRegistry::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, fn] : by_name_) out.push_back(name);
  return out;
}

std::vector<std::string> SplitRemoteNames(std::string_view names) {
  std::vector<std::string> out;
  int depth = 0;
  std::string current;
  auto flush = [&] {
    size_t b = current.find_first_not_of(" \t\n&");
    size_t e = current.find_last_not_of(" \t\n");
    out.push_back(b == std::string::npos ? std::string() : current.substr(b, e - b + 1));
    current.clear();
  };
  for (char c : names) {
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      current += c;
    }
  }
  flush();
  return out;
}

}  // namespace internal
}  // namespace prism
