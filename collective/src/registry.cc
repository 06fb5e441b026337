#include "registry.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <thread>

#include "host_algorithms.h"
#include "nccl_comm.h"
#include "prism/common/clock.h"
#include "prism/common/logging.h"
#include "prism/common/wire.h"
#include "prism/runtime/api.h"
#include "prism/transport/transport.h"
#include "shm_inbox.h"

namespace prism::collective {
namespace {

spdlog::logger& Log() {
  static spdlog::logger& logger = log::Get("collective");
  return logger;
}

constexpr int64_t kKvTimeoutMs = 60'000;

std::string RendezvousKey(const std::string& name) { return "collective/join/" + name + "/"; }
std::string DeclarationKey(const std::string& name) { return "collective/decl/" + name + "/"; }

[[noreturn]] void Throw(const std::string& message) { throw CollectiveError(message); }

struct Declaration {
  uint64_t id = 0;
  Backend backend = Backend::kUcx;
  GroupOptions options;
  std::vector<std::string> actors;
};

std::vector<std::byte> EncodeDeclaration(const Declaration& d) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(d.id);
  w.U8(static_cast<uint8_t>(d.backend));
  w.I64(d.options.timeout_ms);
  w.I64(d.options.init_timeout_ms);
  w.Bool(d.options.shm_streams);
  w.U32(static_cast<uint32_t>(d.actors.size()));
  for (const auto& a : d.actors) w.String(a);
  return out;
}

bool DecodeDeclaration(std::span<const std::byte> in, Declaration* d) {
  WireReader r(in);
  d->id = r.U64();
  uint8_t backend = r.U8();
  d->options.timeout_ms = r.I64();
  d->options.init_timeout_ms = r.I64();
  d->options.shm_streams = r.Bool();
  uint32_t n = r.Count(4);
  for (uint32_t i = 0; i < n && r.ok(); ++i) d->actors.push_back(r.String());
  if (backend > static_cast<uint8_t>(Backend::kNccl)) return false;
  d->backend = static_cast<Backend>(backend);
  return r.AtEnd();
}

}  // namespace

Registry& Registry::Get() {
  static Registry* registry = new Registry();  // never destroyed: failure notices may come late
  return *registry;
}

Registry::Registry() {
  Mailbox::Get();  // installs the message handlers
  internal::SubscribePeerFailure(
      [this](Rank rank, const std::string& why) { OnPeerFailure(rank, why); });
}

const std::string& Registry::CallerIdentity() {
  // Every call looks its member up by this: cached per thread, remade only when the thread runs
  // another actor (a pool thread runs many).
  thread_local ActorId cached_actor;
  thread_local std::string cached;
  ActorId actor = internal::CurrentActorId();
  if (cached.empty() || actor != cached_actor) {
    cached_actor = actor;
    cached =
        actor.IsNil()
            ? "thread:" + std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()))
            : "actor:" + actor.Hex();
  }
  return cached;
}

void Registry::CheckName(const std::string& name, const char* api) {
  if (name.empty() || name.find('/') != std::string::npos) {
    Throw(fmt::format("{}: group name '{}' must be non-empty and without '/'", api, name));
  }
}

std::shared_ptr<Member> Registry::Join(int world_size, int rank, Backend backend,
                                       const std::string& name, const GroupOptions& options,
                                       uint64_t declaration) {
  const char* api = "prism::collective::InitGroup";
  CheckName(name, api);
  if (world_size < 1) Throw(fmt::format("{}: world_size {} must be at least 1", api, world_size));
  if (rank < 0 || rank >= world_size) {
    Throw(fmt::format("{}: rank {} is not in [0, {})", api, rank, world_size));
  }
  if (backend != Backend::kUcx && backend != Backend::kNccl) {
    Throw(fmt::format("{}: unknown backend {}", api, static_cast<int>(backend)));
  }
  if (backend == Backend::kNccl && !NcclComm::Available()) {
    Throw(
        fmt::format("{}: group '{}': the NCCL backend is not available (Prism was built "
                    "without CUDA/NCCL)",
                    api, name));
  }
  std::string identity = CallerIdentity();
  {
    std::lock_guard lock(mu_);
    auto it = members_.find({name, identity});
    if (it != members_.end()) {
      if (it->second.member->generation() == internal::RuntimeGeneration()) {
        Throw(fmt::format("{}: this {} is already member {} of group '{}' (DestroyGroup first)",
                          api, identity.rfind("actor:", 0) == 0 ? "actor" : "thread",
                          it->second.member->rank(), name));
      }
      members_.erase(it);  // from an earlier prism::Init of this process
      version_.fetch_add(1, std::memory_order_release);
    }
  }
  // Member 0 of an NCCL group makes the communicator's id; everyone gets it with the rendezvous.
  std::vector<std::byte> value;
  WireWriter w(value);
  w.U8(static_cast<uint8_t>(backend));
  std::vector<std::byte> nccl_id;
  if (backend == Backend::kNccl && rank == 0) {
    auto id = NcclComm::NewUniqueId();
    if (!id) Throw(fmt::format("{}: group '{}': {}", api, name, id.error().message));
    nccl_id = *id;
  }
  w.Bytes(nccl_id);
  // A shared-memory inbox for small messages, used if the group turns out to live on this host
  // in distinct processes (its name travels in the rendezvous value; "" when there is none).
  std::unique_ptr<ShmInbox> inbox;
  if (backend == Backend::kUcx && world_size > 1) {
    auto created = ShmInbox::Create(world_size, rank, options.shm_streams);
    if (created) {
      inbox = std::move(*created);
    } else {
      Log().debug("group '{}': no shared-memory inbox ({}): small messages use the transport", name,
                  created.error().message);
    }
  }
  w.String(inbox ? inbox->name() : std::string());
  internal::BlockingScope blocking;
  auto gathered =
      internal::KvRendezvous(RendezvousKey(name), world_size, rank, value, options.init_timeout_ms);
  if (!gathered) {
    Throw(fmt::format("{}: group '{}' (member {} of {}): {}", api, name, rank, world_size,
                      gathered.error().message));
  }
  std::vector<std::byte> group_nccl_id;
  std::vector<std::string> inboxes(gathered->values.size());
  for (size_t i = 0; i < gathered->values.size(); ++i) {
    WireReader r(gathered->values[i]);
    uint8_t b = r.U8();
    auto id = r.Bytes();
    inboxes[i] = r.String();
    if (!r.AtEnd()) Throw(fmt::format("{}: group '{}': malformed rendezvous value", api, name));
    if (b != static_cast<uint8_t>(backend)) {
      Throw(fmt::format("{}: group '{}': member {} asked for backend {}, member {} for {}", api,
                        name, rank, BackendName(backend), i, BackendName(static_cast<Backend>(b))));
    }
    if (i == 0) group_nccl_id.assign(id.begin(), id.end());
  }
  auto member = std::make_shared<Member>(name, backend, world_size, rank, gathered->epoch,
                                         gathered->ranks, options);
  if (backend == Backend::kNccl) {
    auto comm = NcclComm::Create(group_nccl_id, world_size, rank);
    if (!comm) Throw(fmt::format("{}: group '{}': {}", api, name, comm.error().message));
    member->set_nccl(std::move(*comm));
  }
  transport::Transport& transport = internal::RankTransport();
  if (backend == Backend::kUcx && member->all_on_host()) {
    // Map the others' inboxes, then a barrier (every member mapped every inbox) before the names
    // go. Every member of such a group does this barrier, inbox or not, so that operation
    // numbers stay in step.
    if (inbox) {
      for (int j = 0; j < world_size; ++j) {
        if (j != rank && !inboxes[static_cast<size_t>(j)].empty()) {
          inbox->Connect(j, inboxes[static_cast<size_t>(j)]);
        }
      }
      member->AttachInbox(std::move(inbox));
    }
    if (Status s = HostBarrier(*member); !s) {
      Log().warn("group '{}': the barrier after mapping the inboxes failed: {}", name,
                 s.error().message);
    }
    member->UnlinkInbox();
  }
  inbox.reset();  // not all on this host: unused (its name goes with it)
  {
    std::lock_guard lock(mu_);
    members_[{name, identity}] = Entry{member, declaration};
    version_.fetch_add(1, std::memory_order_release);
  }
  // A rank that died before we subscribed-in: fail now rather than hang later.
  for (int i = 0; i < world_size; ++i) {
    Rank r = member->process_of(i);
    if (!transport.IsAlive(r)) {
      member->Fail(fmt::format("member {} lived on rank {}, which died", i, r));
    }
  }
  Log().debug("joined group '{}' as member {} of {} (epoch {})", name, rank, world_size,
              gathered->epoch);
  return member;
}

std::shared_ptr<Member> Registry::FindLocal(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = members_.find({name, CallerIdentity()});
  if (it == members_.end()) return nullptr;
  if (it->second.member->generation() != internal::RuntimeGeneration()) {
    members_.erase(it);
    version_.fetch_add(1, std::memory_order_release);
    return nullptr;
  }
  return it->second.member;
}

std::shared_ptr<Member> Registry::Find(const std::string& name, const char* api) {
  // The thread's last healthy result, while no member came or went since (every operation looks
  // its member up: the 8-byte AllReduce is latency-bound).
  struct Cached {
    uint64_t version = 0;
    ActorId actor;
    std::string name;
    std::weak_ptr<Member> member;
  };
  thread_local Cached cached;
  const ActorId caller = internal::CurrentActorId();
  if (cached.version == version_.load(std::memory_order_acquire) && cached.actor == caller &&
      cached.name == name) {
    std::shared_ptr<Member> member = cached.member.lock();
    if (member && !member->failed() && member->generation() == internal::RuntimeGeneration()) {
      return member;
    }
  }
  const std::string& identity = CallerIdentity();
  uint64_t joined_from = 0;
  uint64_t version = 0;
  std::shared_ptr<Member> member;
  {
    std::lock_guard lock(mu_);
    auto it = members_.find({name, identity});
    if (it != members_.end()) {
      if (it->second.member->generation() != internal::RuntimeGeneration()) {
        members_.erase(it);
        version_.fetch_add(1, std::memory_order_release);
      } else {
        member = it->second.member;
        joined_from = it->second.declaration;
      }
    }
    version = version_.load(std::memory_order_relaxed);
  }
  if (member && !member->failed()) cached = Cached{version, caller, name, member};
  // A healthy member, or one that joined by InitGroup: use it (a failed one reports its failure).
  if (member && (!member->failed() || joined_from == 0)) return member;
  // Not a member (or a failed member of a declared group): look for a (new) declaration.
  if (identity.rfind("actor:", 0) == 0) {
    internal::BlockingScope blocking;
    auto bytes = internal::KvGet(DeclarationKey(name), kKvTimeoutMs);
    if (!bytes) Throw(fmt::format("{}: group '{}': {}", api, name, bytes.error().message));
    Declaration d;
    if (bytes->has_value() && DecodeDeclaration(**bytes, &d) && d.id != joined_from) {
      std::string actor = identity.substr(6);
      for (size_t i = 0; i < d.actors.size(); ++i) {
        if (d.actors[i] != actor) continue;
        if (member) Leave(name);
        return Join(static_cast<int>(d.actors.size()), static_cast<int>(i), d.backend, name,
                    d.options, d.id);
      }
    }
  }
  if (member) return member;
  Throw(
      fmt::format("{}: the caller is not a member of group '{}' (call InitGroup in each member, "
                  "or CreateGroup from the driver)",
                  api, name));
}

bool Registry::IsDeclaredMember(const std::string& name) {
  std::string identity = CallerIdentity();
  if (identity.rfind("actor:", 0) != 0) return false;
  auto bytes = internal::KvGet(DeclarationKey(name), kKvTimeoutMs);
  if (!bytes) {
    Throw(fmt::format("prism::collective::IsGroupInitialized: group '{}': {}", name,
                      bytes.error().message));
  }
  Declaration d;
  if (!bytes->has_value() || !DecodeDeclaration(**bytes, &d)) return false;
  return std::find(d.actors.begin(), d.actors.end(), identity.substr(6)) != d.actors.end();
}

bool Registry::Leave(const std::string& name) {
  std::shared_ptr<Member> member;
  {
    std::lock_guard lock(mu_);
    auto it = members_.find({name, CallerIdentity()});
    if (it == members_.end()) return false;
    member = it->second.member;
    members_.erase(it);
    version_.fetch_add(1, std::memory_order_release);
  }
  member->Fail(fmt::format("the group '{}' was destroyed", name));
  return true;
}

void Registry::Declare(const std::vector<std::string>& actor_ids, Backend backend,
                       const std::string& name, const GroupOptions& options) {
  const char* api = "prism::collective::CreateGroup";
  CheckName(name, api);
  if (actor_ids.empty()) Throw(fmt::format("{}: group '{}' needs at least one actor", api, name));
  for (size_t i = 0; i < actor_ids.size(); ++i) {
    if (actor_ids[i].empty())
      Throw(fmt::format("{}: actor {} of group '{}' is empty", api, i, name));
    for (size_t j = 0; j < i; ++j) {
      if (actor_ids[i] == actor_ids[j]) {
        Throw(fmt::format("{}: actor {} appears twice in group '{}' (positions {} and {})", api,
                          actor_ids[i], name, j, i));
      }
    }
  }
  if (backend == Backend::kNccl && !NcclComm::Available()) {
    Throw(fmt::format("{}: the NCCL backend is not available (Prism was built without CUDA/NCCL)",
                      api));
  }
  Declaration d;
  std::random_device random;
  d.id = (uint64_t{random()} << 32) ^ random() ^ static_cast<uint64_t>(NowNanos());
  if (d.id == 0) d.id = 1;
  d.backend = backend;
  d.options = options;
  d.actors = actor_ids;
  Status s = internal::KvPut(DeclarationKey(name), EncodeDeclaration(d), kKvTimeoutMs);
  if (!s) Throw(fmt::format("{}: group '{}': {}", api, name, s.error().message));
}

void Registry::Undeclare(const std::string& name) {
  Status s = internal::KvDelete(DeclarationKey(name), kKvTimeoutMs);
  if (!s) {
    Throw(fmt::format("prism::collective::DestroyGroup: group '{}': {}", name, s.error().message));
  }
}

void Registry::OnPeerFailure(Rank rank, const std::string& why) {
  std::vector<std::pair<std::shared_ptr<Member>, int>> hit;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, entry] : members_) {
      const auto& ranks = entry.member->ranks();
      for (size_t i = 0; i < ranks.size(); ++i) {
        if (ranks[i] == rank) {
          hit.emplace_back(entry.member, static_cast<int>(i));
          break;
        }
      }
    }
  }
  for (auto& [member, index] : hit) {
    member->Fail(fmt::format("member {} lived on rank {}, which died ({})", index, rank, why));
  }
}

}  // namespace prism::collective
