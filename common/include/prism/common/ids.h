#pragma once
/// Identifiers: ranks, jobs, tasks, actors, objects and placement groups.
///
/// An ObjectId names its owner's rank, so any rank can find the owner of any object without a
/// directory lookup (Ray's ownership model). TaskId and ObjectId share the owner's sequence.

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace prism {

/// A process of the job; rank 0 hosts the controller and the driver.
using Rank = int32_t;
inline constexpr Rank kNoRank = -1;

/// The job: one run of a Prism application (one Init..Shutdown across all ranks).
struct JobId {
  uint64_t value = 0;
  bool IsNil() const { return value == 0; }
  std::string Hex() const;  ///< 16 lower-case hex digits.
  friend auto operator<=>(const JobId&, const JobId&) = default;
};

/// A task, named by the rank that submitted (and owns) it and a per-rank sequence number.
struct TaskId {
  Rank owner = kNoRank;
  uint64_t seq = 0;
  bool IsNil() const { return owner == kNoRank; }
  std::string ToString() const;  ///< "task 3:17"
  std::string Hex() const;       ///< 24 hex digits: owner then sequence.
  friend auto operator<=>(const TaskId&, const TaskId&) = default;
};

/// An immutable object. index 0 is an object made by Put; index k >= 1 is the k-th return of
/// the task (owner, seq).
struct ObjectId {
  Rank owner = kNoRank;
  uint32_t index = 0;
  uint64_t seq = 0;

  static ObjectId ForPut(Rank owner, uint64_t seq) { return ObjectId{owner, 0, seq}; }
  static ObjectId ForReturn(TaskId task, uint32_t index) {
    return ObjectId{task.owner, index, task.seq};
  }
  bool IsNil() const { return owner == kNoRank; }
  bool IsPut() const { return index == 0; }
  TaskId task() const { return TaskId{owner, seq}; }  ///< The task that returns it (not for Put).
  std::string ToString() const;                       ///< "obj 3:17.1"
  friend auto operator<=>(const ObjectId&, const ObjectId&) = default;
};

/// An actor, named by the id of the task that created it (its owner's rank and sequence).
struct ActorId {
  Rank owner = kNoRank;
  uint64_t seq = 0;

  static ActorId ForCreation(TaskId task) { return ActorId{task.owner, task.seq}; }
  TaskId creation_task() const { return TaskId{owner, seq}; }
  bool IsNil() const { return owner == kNoRank; }
  std::string ToString() const;  ///< "actor 3:17"
  std::string Hex() const;       ///< 24 hex digits: owner then sequence.
  friend auto operator<=>(const ActorId&, const ActorId&) = default;
};

/// A placement group, named by the rank that created it and a per-rank sequence number.
struct PlacementGroupId {
  Rank owner = kNoRank;
  uint64_t seq = 0;
  bool IsNil() const { return owner == kNoRank; }
  std::string ToString() const;  ///< "pg 3:17"
  std::string Hex() const;       ///< 24 hex digits: owner then sequence.
  /// Parses what Hex() wrote; a nil id for anything else.
  static PlacementGroupId FromHex(const std::string& hex);
  friend auto operator<=>(const PlacementGroupId&, const PlacementGroupId&) = default;
};

/// Mixes a 64-bit value (splitmix64 finaliser); good enough to spread ids over hash shards.
constexpr uint64_t MixBits(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace prism

template <>
struct std::hash<prism::TaskId> {
  size_t operator()(const prism::TaskId& id) const noexcept {
    return prism::MixBits(id.seq ^ (static_cast<uint64_t>(static_cast<uint32_t>(id.owner)) << 40));
  }
};

template <>
struct std::hash<prism::ActorId> {
  size_t operator()(const prism::ActorId& id) const noexcept {
    return std::hash<prism::TaskId>{}(id.creation_task());
  }
};

template <>
struct std::hash<prism::PlacementGroupId> {
  size_t operator()(const prism::PlacementGroupId& id) const noexcept {
    return std::hash<prism::TaskId>{}(prism::TaskId{id.owner, id.seq});
  }
};

template <>
struct std::hash<prism::ObjectId> {
  size_t operator()(const prism::ObjectId& id) const noexcept {
    return prism::MixBits(id.seq ^ (static_cast<uint64_t>(static_cast<uint32_t>(id.owner)) << 40) ^
                          (static_cast<uint64_t>(id.index) << 20));
  }
};
