#include "services.h"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <map>
#include <mutex>

#include "core_runtime.h"
#include "prism/runtime/errors.h"
#include "prism/runtime/internal/services.h"
#include "task_context.h"
#include "worker_pool.h"

namespace prism {
namespace {

constexpr int kFirst = transport::kCollectiveTypesBegin;
constexpr int kCount = transport::kCollectiveTypesEnd - transport::kCollectiveTypesBegin;
// The transport hands every message of a type with a bulk handler to that handler, so the range
// is split: control forwarders below kBulkFirst, bulk forwarders from it.
constexpr int kBulkFirst = kFirst + kCount / 2;

struct Registry {
  std::mutex mu;
  std::array<std::shared_ptr<internal::ServiceHandler>, kCount> handlers;
  std::array<std::shared_ptr<internal::ServiceBulkHandler>, kCount> bulk_handlers;
  std::map<uint64_t, std::shared_ptr<internal::PeerFailureCallback>> subscribers;
  uint64_t next_subscriber = 1;
};

Registry& Reg() {
  static Registry* registry = new Registry();  // never destroyed: handlers may run at exit
  return *registry;
}

std::atomic<uint64_t> g_generation{0};

std::shared_ptr<runtime::CoreRuntime> Need(const char* api) {
  auto rt = runtime::CoreRuntime::Current();
  if (!rt) throw PrismError(fmt::format("{}: Prism is not initialised (call prism::Init)", api));
  return rt;
}

size_t Slot(transport::MessageType type, bool bulk) {
  int begin = bulk ? kBulkFirst : kFirst;
  int end = bulk ? kFirst + kCount : kBulkFirst;
  if (type < begin || type >= end) {
    throw PrismError(fmt::format("{} message type {} is outside its range [{}, {})",
                                 bulk ? "bulk" : "control", static_cast<int>(type), begin, end));
  }
  return static_cast<size_t>(type - kFirst);
}

}  // namespace

namespace runtime {

void InstallServiceForwarders(transport::Transport& transport) {
  g_generation.fetch_add(1);
  for (int i = 0; i < kCount; ++i) {
    auto type = static_cast<transport::MessageType>(kFirst + i);
    if (kFirst + i >= kBulkFirst) {
      transport.SetBulkHandler(
          type, [i](Rank source, std::span<const std::byte> meta, transport::IncomingBulk& body) {
            std::shared_ptr<internal::ServiceBulkHandler> handler;
            {
              std::lock_guard lock(Reg().mu);
              handler = Reg().bulk_handlers[i];
            }
            if (handler) (*handler)(source, meta, body);  // else dropped: nobody takes the body
          });
      continue;
    }
    transport.SetHandler(type, [i](Rank source, std::span<const std::byte> payload) {
      std::shared_ptr<internal::ServiceHandler> handler;
      {
        std::lock_guard lock(Reg().mu);
        handler = Reg().handlers[i];
      }
      if (handler) (*handler)(source, payload);
    });
  }
  transport.AddPeerFailureHandler([](Rank rank, const std::string& why) {
    std::vector<std::shared_ptr<internal::PeerFailureCallback>> callbacks;
    {
      std::lock_guard lock(Reg().mu);
      for (auto& [id, cb] : Reg().subscribers) callbacks.push_back(cb);
    }
    for (auto& cb : callbacks) (*cb)(rank, why);
  });
}

}  // namespace runtime

namespace internal {

RuntimeLease LeaseRuntime() { return Need("prism::internal::LeaseRuntime"); }

transport::Transport& RankTransport() {
  return Need("prism::internal::RankTransport")->transport();
}

uint64_t RuntimeGeneration() { return g_generation.load(); }

ActorId CurrentActorId() { return runtime::CurrentActor().id; }

Status KvPut(const std::string& key, std::span<const std::byte> value, int64_t timeout_ms) {
  return Need("KvPut")->kv().Put(key, value, timeout_ms);
}

Result<std::optional<std::vector<std::byte>>> KvGet(const std::string& key, int64_t timeout_ms) {
  return Need("KvGet")->kv().Get(key, timeout_ms);
}

Result<std::vector<std::byte>> KvWait(const std::string& key, int64_t timeout_ms) {
  return Need("KvWait")->kv().Wait(key, timeout_ms);
}

Status KvDelete(const std::string& prefix, int64_t timeout_ms) {
  return Need("KvDelete")->kv().Delete(prefix, timeout_ms);
}

Result<KvGathered> KvRendezvous(const std::string& key, int32_t count, int32_t index,
                                std::span<const std::byte> value, int64_t timeout_ms) {
  auto r = Need("KvRendezvous")->kv().Rendezvous(key, count, index, value, timeout_ms);
  if (!r) return r.error();
  return KvGathered{r->epoch, std::move(r->values), std::move(r->ranks)};
}

void SetServiceHandler(transport::MessageType type, ServiceHandler handler) {
  size_t slot = Slot(type, false);
  std::lock_guard lock(Reg().mu);
  Reg().handlers[slot] = std::make_shared<ServiceHandler>(std::move(handler));
}

void SetServiceBulkHandler(transport::MessageType type, ServiceBulkHandler handler) {
  size_t slot = Slot(type, true);
  std::lock_guard lock(Reg().mu);
  Reg().bulk_handlers[slot] = std::make_shared<ServiceBulkHandler>(std::move(handler));
}

uint64_t SubscribePeerFailure(PeerFailureCallback callback) {
  std::lock_guard lock(Reg().mu);
  uint64_t id = Reg().next_subscriber++;
  Reg().subscribers.emplace(id, std::make_shared<PeerFailureCallback>(std::move(callback)));
  return id;
}

void UnsubscribePeerFailure(uint64_t id) {
  std::lock_guard lock(Reg().mu);
  Reg().subscribers.erase(id);
}

struct BlockingScope::State {
  runtime::WorkerPool::BlockedScope scope;
};

BlockingScope::BlockingScope() : state_(std::make_unique<State>()) {}
BlockingScope::~BlockingScope() = default;

}  // namespace internal
}  // namespace prism
