// The public entry points of prism/collective/collective.h.
#include "prism/runtime/api.h"

#include <fmt/format.h>

#include "host_algorithms.h"
#include "member.h"
#include "nccl_comm.h"
#include "prism/collective/collective.h"
#include "prism/common/clock.h"
#include "reduce_kernels.h"
#include "registry.h"

namespace prism::collective {
namespace {

// Runs one operation of the caller's member of `group`: the host algorithm or the NCCL call.
// Templates, not std::function: a blocking call runs its algorithm on the caller's thread
// without allocating (the 8-byte AllReduce is latency-bound).
template <typename Check, typename Host, typename Device>
Work Submit(const char* api, const std::string& group, bool async, const Check& check,
            const Host& host, const Device& device) {
  std::shared_ptr<Member> member = Registry::Get().Find(group, api);
  check(*member);
  // A raw pointer: the member's destructor joins the thread that runs queued bodies, so a body
  // never outlives its member (and never holds the last reference to it).
  Member* member_ptr = member.get();
  auto body = [member = member_ptr, api, host, device]() -> Status {
    Status s;
    if (member->failed()) {
      s = member->failure();
    } else if (member->backend() == Backend::kNccl) {
      s = device(*member->nccl(), [member] { return member->failed(); });
    } else {
      s = host(*member);
    }
    if (s) return s;
    return MakeError(s.code(),
                     fmt::format("{} on group '{}' (member {} of {}): {}", api, member->name(),
                                 member->rank(), member->world_size(), s.error().message));
  };
  if (!async) {
    Status s = member->RunNow(body);
    if (!s) throw CollectiveError(s.error().message);
    return Work();
  }
  return member->Run(std::move(body), /*async=*/true);
}

void CheckMember(const char* api, const Member& m, int index, const char* what) {
  if (index < 0 || index >= m.world_size()) {
    throw CollectiveError(fmt::format("{}: {} {} is not a member of group '{}' (size {})", api,
                                      what, index, m.name(), m.world_size()));
  }
}

void CheckType(const char* api, const Member& m, DataType type) {
  if (m.backend() == Backend::kUcx) CheckHostType(type, api);
}

void CheckBuffer(const char* api, const void* p, size_t count) {
  if (p == nullptr && count != 0) throw CollectiveError(fmt::format("{}: null buffer", api));
}

}  // namespace

bool Work::Done() const { return !state_ || state_->done.load(std::memory_order_acquire); }

void Work::Wait() const {
  if (!state_) return;
  if (!state_->done.load(std::memory_order_acquire)) {
    internal::BlockingScope blocking;
    while (!state_->done.load(std::memory_order_acquire)) {
      state_->event.Sleep([&] { return state_->done.load(std::memory_order_acquire); },
                          100'000'000);
    }
  }
  if (!state_->status) throw CollectiveError(state_->status.error().message);
}

void InitGroup(int world_size, int rank, Backend backend, const std::string& group_name,
               const GroupOptions& options) {
  Registry::Get().Join(world_size, rank, backend, group_name, options);
}

void DeclareGroup(const std::vector<std::string>& actor_ids, Backend backend,
                  const std::string& group_name, const GroupOptions& options) {
  Registry::Get().Declare(actor_ids, backend, group_name, options);
}

void DestroyGroup(const std::string& group_name) {
  Registry::Get().Leave(group_name);
  // Outside actors (the driver, a task), also drop a CreateGroup declaration of that name.
  if (GetRuntimeContext().GetActorId().empty()) Registry::Get().Undeclare(group_name);
}

bool IsGroupInitialized(const std::string& group_name) {
  return Registry::Get().FindLocal(group_name) != nullptr ||
         Registry::Get().IsDeclaredMember(group_name);
}

int GetRank(const std::string& group_name) {
  return Registry::Get().Find(group_name, "prism::collective::GetRank")->rank();
}

int GetWorldSize(const std::string& group_name) {
  return Registry::Get().Find(group_name, "prism::collective::GetWorldSize")->world_size();
}

namespace raw {

Work AllReduce(void* data, size_t count, DataType type, ReduceOp op, const std::string& group,
               bool async) {
  const char* api = "prism::collective::AllReduce";
  CheckBuffer(api, data, count);
  return Submit(
      api, group, async, [=](const Member& m) { CheckType(api, m, type); },
      [=](Member& m) { return HostAllReduce(m, data, count, type, op); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.AllReduce(data, count, type, op, f, -1);
      });
}

Work Reduce(void* data, size_t count, DataType type, ReduceOp op, int root,
            const std::string& group, bool async) {
  const char* api = "prism::collective::Reduce";
  CheckBuffer(api, data, count);
  return Submit(
      api, group, async,
      [=](const Member& m) {
        CheckType(api, m, type);
        CheckMember(api, m, root, "root");
      },
      [=](Member& m) { return HostReduce(m, data, count, type, op, root); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.Reduce(data, count, type, op, root, f, -1);
      });
}

Work Broadcast(void* data, size_t count, DataType type, int root, const std::string& group,
               bool async) {
  const char* api = "prism::collective::Broadcast";
  CheckBuffer(api, data, count);
  return Submit(
      api, group, async,
      [=](const Member& m) {
        CheckType(api, m, type);
        CheckMember(api, m, root, "root");
      },
      [=](Member& m) { return HostBroadcast(m, data, count * DataTypeSize(type), root); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.Broadcast(data, count, type, root, f, -1);
      });
}

Work AllGather(const void* send, void* recv, size_t count, DataType type, const std::string& group,
               bool async) {
  const char* api = "prism::collective::AllGather";
  CheckBuffer(api, send, count);
  CheckBuffer(api, recv, count);
  return Submit(
      api, group, async, [=](const Member& m) { CheckType(api, m, type); },
      [=](Member& m) { return HostAllGather(m, send, recv, count * DataTypeSize(type)); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.AllGather(send, recv, count, type, f, -1);
      });
}

Work ReduceScatter(const void* send, void* recv, size_t count, DataType type, ReduceOp op,
                   const std::string& group, bool async) {
  const char* api = "prism::collective::ReduceScatter";
  CheckBuffer(api, send, count);
  CheckBuffer(api, recv, count);
  return Submit(
      api, group, async, [=](const Member& m) { CheckType(api, m, type); },
      [=](Member& m) { return HostReduceScatter(m, send, recv, count, type, op); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.ReduceScatter(send, recv, count, type, op, f, -1);
      });
}

Work Barrier(const std::string& group, bool async) {
  return Submit(
      "prism::collective::Barrier", group, async, [](const Member&) {},
      [](Member& m) { return HostBarrier(m); },
      [](NcclComm& c, const NcclComm::FailedFn& f) { return c.Barrier(f, -1); });
}

Work Send(const void* data, size_t count, DataType type, int dst, const std::string& group,
          bool async) {
  const char* api = "prism::collective::Send";
  CheckBuffer(api, data, count);
  return Submit(
      api, group, async,
      [=](const Member& m) {
        CheckType(api, m, type);
        CheckMember(api, m, dst, "destination");
        if (dst == m.rank()) {
          throw CollectiveError(fmt::format("{}: a member cannot send to itself", api));
        }
      },
      [=](Member& m) { return HostSend(m, data, count * DataTypeSize(type), dst); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.Send(data, count, type, dst, f, -1);
      });
}

Work Recv(void* data, size_t count, DataType type, int src, const std::string& group, bool async) {
  const char* api = "prism::collective::Recv";
  CheckBuffer(api, data, count);
  return Submit(
      api, group, async,
      [=](const Member& m) {
        CheckType(api, m, type);
        CheckMember(api, m, src, "source");
        if (src == m.rank()) {
          throw CollectiveError(fmt::format("{}: a member cannot receive from itself", api));
        }
      },
      [=](Member& m) { return HostRecv(m, data, count * DataTypeSize(type), src); },
      [=](NcclComm& c, const NcclComm::FailedFn& f) {
        return c.Recv(data, count, type, src, f, -1);
      });
}

}  // namespace raw
}  // namespace prism::collective
