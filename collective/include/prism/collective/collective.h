#pragma once
/// In-application collectives between actors and tasks (Ray's ray.util.collective, in C++).
///
///   // inside each of 4 actors (an actor method), member `i` of group "grads":
///   prism::collective::InitGroup(4, i, prism::collective::Backend::kUcx, "grads");
///   std::vector<float> g = ComputeGradient();
///   prism::collective::AllReduce(std::span<float>(g), prism::collective::ReduceOp::kSum, "grads");
///
///   // or, from the driver, declare the group over actors; each joins on its first collective:
///   prism::collective::CreateGroup(actors, prism::collective::Backend::kUcx, "grads");
///
/// A member is the actor (or, outside actors, the thread) that called InitGroup; several members
/// of one group may live in one rank process, and their data then moves inside the process.
/// Every member must call the group's collectives in the same order with matching arguments.
/// Calls block until this member's part is done; the *Async forms return a Work to wait on
/// (operations of one member run in the order they were issued). Buffers passed to an *Async call
/// must stay valid and untouched until its Work is done.
///
/// Failure: when a member's rank dies, every pending and later operation of the group throws
/// CollectiveError on every survivor (within the transport's failure detection time, seconds);
/// DestroyGroup and a new InitGroup/CreateGroup over the survivors make a working group again.
/// docs/collectives.md has the algorithms and the measured numbers.
///
/// Thread contract: thread-safe across members; one member's calls come from one thread at a time.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prism/collective/types.h"
#include "prism/runtime/actor.h"

namespace prism::collective {

/// Options of a group.
struct GroupOptions {
  /// Longest wait of one operation, in milliseconds; negative: none (a dead member still ends
  /// the wait through failure detection).
  int64_t timeout_ms = -1;
  /// Longest wait for the other members in InitGroup, in milliseconds.
  int64_t init_timeout_ms = 120'000;
  /// When the members live in distinct processes of one host, AllReduces of 8 KiB to 4 MiB,
  /// Reduces and ReduceScatters from 8 KiB, and large Broadcasts and AllGathers stream through a
  /// shared-memory outbox per member (2 MiB of /dev/shm each, reserved at InitGroup; without the
  /// room, the member goes without). false (on any member): no outboxes; those reductions then
  /// use messages, and the Broadcasts and AllGathers read the members' buffers directly
  /// (process_vm_readv or RMA gets), all slower.
  bool shm_streams = true;
};

/// Joins group `group_name` as member `rank` of `world_size` (0 <= rank < world_size). Blocks
/// until every member has joined (rendezvous through the controller's key-value store). Throws
/// CollectiveError when this actor/thread is already a member of that group, on bad arguments,
/// when the backend is not available, or when the others do not arrive in time.
void InitGroup(int world_size, int rank, Backend backend = Backend::kUcx,
               const std::string& group_name = "default", const GroupOptions& options = {});

/// Declares group `group_name` over actors given as ids (24 hex digits, ActorHandle::ID().Hex()):
/// the actor at position i becomes member i when it first uses the group. From the driver (or any
/// task); see the template below.
void DeclareGroup(const std::vector<std::string>& actor_ids, Backend backend,
                  const std::string& group_name, const GroupOptions& options = {});

/// CreateGroup(actors, backend, name): Ray's create_collective_group. Member i is actors[i].
template <typename C>
void CreateGroup(const std::vector<ActorHandle<C>>& actors, Backend backend = Backend::kUcx,
                 const std::string& group_name = "default", const GroupOptions& options = {}) {
  std::vector<std::string> ids;
  ids.reserve(actors.size());
  for (const auto& a : actors) ids.push_back(a.ID().Hex());
  DeclareGroup(ids, backend, group_name, options);
}

/// Leaves the group (this member's view of it); pending operations of this member fail. From the
/// driver, also removes a CreateGroup declaration so that the name can be declared again. No
/// error when this caller is not a member.
void DestroyGroup(const std::string& group_name = "default");
/// True when the caller is a member of `group_name` (joined, or declared for it).
bool IsGroupInitialized(const std::string& group_name = "default");
/// The caller's rank in the group, and the group's size. Throw CollectiveError for a non-member.
int GetRank(const std::string& group_name = "default");
int GetWorldSize(const std::string& group_name = "default");

/// A pending operation.
class Work {
 public:
  Work() = default;
  /// True once the operation finished (well or not).
  bool Done() const;
  /// Blocks until the operation finished; throws CollectiveError when it failed.
  void Wait() const;

  struct State;
  explicit Work(std::shared_ptr<State> state) : state_(std::move(state)) {}

 private:
  std::shared_ptr<State> state_;
};

/// Untyped forms: `count` elements of `type` at `data` (host memory for kUcx, device memory for
/// kNccl). The typed templates below call these.
namespace raw {
Work AllReduce(void* data, size_t count, DataType type, ReduceOp op, const std::string& group,
               bool async);
Work Reduce(void* data, size_t count, DataType type, ReduceOp op, int root,
            const std::string& group, bool async);
Work Broadcast(void* data, size_t count, DataType type, int root, const std::string& group,
               bool async);
/// `recv` holds world_size * count elements; member i's `send` lands at recv + i * count.
Work AllGather(const void* send, void* recv, size_t count, DataType type, const std::string& group,
               bool async);
/// `send` holds world_size * count elements; member i gets the reduction of block i in `recv`.
Work ReduceScatter(const void* send, void* recv, size_t count, DataType type, ReduceOp op,
                   const std::string& group, bool async);
Work Barrier(const std::string& group, bool async);
Work Send(const void* data, size_t count, DataType type, int dst, const std::string& group,
          bool async);
Work Recv(void* data, size_t count, DataType type, int src, const std::string& group, bool async);
}  // namespace raw

/// In place: every member's `data` becomes the reduction of all members' `data`.
template <typename T>
void AllReduce(std::span<T> data, ReduceOp op = ReduceOp::kSum,
               const std::string& group = "default") {
  raw::AllReduce(data.data(), data.size(), DataTypeOf<T>(), op, group, false);
}
template <typename T>
void AllReduce(std::vector<T>& data, ReduceOp op = ReduceOp::kSum,
               const std::string& group = "default") {
  AllReduce(std::span<T>(data), op, group);
}
template <typename T>
Work AllReduceAsync(std::span<T> data, ReduceOp op = ReduceOp::kSum,
                    const std::string& group = "default") {
  return raw::AllReduce(data.data(), data.size(), DataTypeOf<T>(), op, group, true);
}

/// Member `root`'s `data` becomes the reduction; on other members `data` serves as workspace and
/// its content afterwards is unspecified.
template <typename T>
void Reduce(std::span<T> data, int root, ReduceOp op = ReduceOp::kSum,
            const std::string& group = "default") {
  raw::Reduce(data.data(), data.size(), DataTypeOf<T>(), op, root, group, false);
}
template <typename T>
Work ReduceAsync(std::span<T> data, int root, ReduceOp op = ReduceOp::kSum,
                 const std::string& group = "default") {
  return raw::Reduce(data.data(), data.size(), DataTypeOf<T>(), op, root, group, true);
}

/// Every member's `data` becomes member `root`'s.
template <typename T>
void Broadcast(std::span<T> data, int root, const std::string& group = "default") {
  raw::Broadcast(data.data(), data.size(), DataTypeOf<T>(), root, group, false);
}
template <typename T>
void Broadcast(std::vector<T>& data, int root, const std::string& group = "default") {
  Broadcast(std::span<T>(data), root, group);
}
template <typename T>
Work BroadcastAsync(std::span<T> data, int root, const std::string& group = "default") {
  return raw::Broadcast(data.data(), data.size(), DataTypeOf<T>(), root, group, true);
}

/// `recv` (world_size * send.size() elements) receives every member's `send`, in member order.
template <typename T>
void AllGather(std::span<const T> send, std::span<T> recv, const std::string& group = "default") {
  if (recv.size() != send.size() * static_cast<size_t>(GetWorldSize(group))) {
    throw CollectiveError("AllGather: the receive buffer must hold world_size * send.size() (" +
                          std::to_string(send.size() * GetWorldSize(group)) + ") elements, not " +
                          std::to_string(recv.size()));
  }
  raw::AllGather(send.data(), recv.data(), send.size(), DataTypeOf<T>(), group, false);
}
template <typename T>
std::vector<T> AllGather(std::span<const T> send, const std::string& group = "default") {
  std::vector<T> out(send.size() * static_cast<size_t>(GetWorldSize(group)));
  raw::AllGather(send.data(), out.data(), send.size(), DataTypeOf<T>(), group, false);
  return out;
}
template <typename T>
Work AllGatherAsync(std::span<const T> send, std::span<T> recv,
                    const std::string& group = "default") {
  return raw::AllGather(send.data(), recv.data(), send.size(), DataTypeOf<T>(), group, true);
}

/// `send` holds world_size blocks of recv.size() elements; member i's `recv` becomes the
/// reduction of every member's block i.
template <typename T>
void ReduceScatter(std::span<const T> send, std::span<T> recv, ReduceOp op = ReduceOp::kSum,
                   const std::string& group = "default") {
  if (send.size() != recv.size() * static_cast<size_t>(GetWorldSize(group))) {
    throw CollectiveError("ReduceScatter: the send buffer must hold world_size * recv.size() (" +
                          std::to_string(recv.size() * GetWorldSize(group)) + ") elements, not " +
                          std::to_string(send.size()));
  }
  raw::ReduceScatter(send.data(), recv.data(), recv.size(), DataTypeOf<T>(), op, group, false);
}
template <typename T>
Work ReduceScatterAsync(std::span<const T> send, std::span<T> recv, ReduceOp op = ReduceOp::kSum,
                        const std::string& group = "default") {
  return raw::ReduceScatter(send.data(), recv.data(), recv.size(), DataTypeOf<T>(), op, group,
                            true);
}

/// Returns once every member has entered the barrier.
inline void Barrier(const std::string& group = "default") { raw::Barrier(group, false); }
inline Work BarrierAsync(const std::string& group = "default") { return raw::Barrier(group, true); }

/// Point to point: Send to member `dst`, Recv from member `src`; the sizes must match. Messages
/// between one pair arrive in the order they were sent.
template <typename T>
void Send(std::span<const T> data, int dst, const std::string& group = "default") {
  raw::Send(data.data(), data.size(), DataTypeOf<T>(), dst, group, false);
}
template <typename T>
void Recv(std::span<T> data, int src, const std::string& group = "default") {
  raw::Recv(data.data(), data.size(), DataTypeOf<T>(), src, group, false);
}
template <typename T>
Work SendAsync(std::span<const T> data, int dst, const std::string& group = "default") {
  return raw::Send(data.data(), data.size(), DataTypeOf<T>(), dst, group, true);
}
template <typename T>
Work RecvAsync(std::span<T> data, int src, const std::string& group = "default") {
  return raw::Recv(data.data(), data.size(), DataTypeOf<T>(), src, group, true);
}

}  // namespace prism::collective
