#pragma once
// Runtime wire messages: their types and codecs. Every decoder treats its input as untrusted and
// returns kMalformed instead of reading past the end or trusting a count.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "cluster_view.h"
#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/common/wire.h"
#include "prism/objstore/object_buffer.h"
#include "prism/runtime/internal/core.h"
#include "prism/transport/message.h"
#include "resources.h"

namespace prism::runtime {

using BufferPtr = std::shared_ptr<objstore::ObjectBuffer>;

enum RuntimeMessage : transport::MessageType {
  kSubmitTask = transport::kRuntimeTypesBegin,  ///< owner -> executor: TaskSpec
  kTaskDone,                                    ///< executor -> owner: TaskResult
  kObjectStatusRequest,                         ///< borrower -> owner: ObjectId
  kObjectStatusReply,                           ///< owner -> borrower: ObjectStatus
  kFreeObjects,        ///< owner -> holder: ObjectIds whose primary copy can go
  kShutdownPrepare,    ///< driver -> all: stop taking work
  kShutdownReady,      ///< all -> driver: drained
  kShutdownCommit,     ///< driver -> all: leave now
  kKillActor,          ///< any -> actor's rank: KillRequest
  kActorNameRequest,   ///< any -> rank 0: NameRequest
  kActorNameReply,     ///< rank 0 -> requester: NameReply
  kAddBorrower,        ///< borrower -> owner: BorrowRequest (it now holds these ids)
  kBorrowerAdded,      ///< owner -> borrower: BorrowRequest (seq only: registration done)
  kRemoveBorrower,     ///< borrower -> owner: ObjectIds it no longer holds
  kReleaseReturnHold,  ///< owner -> executor: TaskId whose return's nested refs it recorded
  kMemoryRequest,      ///< any -> all: request id (MemorySummary)
  kMemoryReply,        ///< all -> requester: RankMemoryReport
  kResourceReport,     ///< any -> all: ResourceReport (what this rank has free)
  kTaskSpillback,      ///< executor -> owner: SpillbackMessage (run it elsewhere)
};
/// Placement-group messages (pg_messages.h) use types from here up to 111.
inline constexpr transport::MessageType kPlacementGroupTypesBegin =
    transport::kRuntimeTypesBegin + 32;
inline constexpr transport::MessageType kPlacementGroupTypesEnd =
    transport::kRuntimeTypesBegin + 48;
static_assert(kTaskSpillback < kPlacementGroupTypesBegin);
static_assert(kPlacementGroupTypesEnd <= transport::kCollectiveTypesBegin);

/// What a task spec asks an executor to do.
enum class TaskKind : uint8_t {
  kNormal = 0,         ///< run a function on a pool worker
  kActorCreation = 1,  ///< run a factory: the actor lives on the executing rank
  kActorCall = 2,      ///< run a method of an actor living on the executing rank
};

/// What an actor's rank needs beyond the factory and its arguments.
struct ActorCreationSpec {
  std::string class_tag;
  int32_t max_concurrency = 1;
  int32_t max_restarts = 0;
  bool detached = false;
  std::vector<internal::ConcurrencyGroupSpec> groups;
  std::string name;   // empty: anonymous
  std::string scope;  // the name's scope (NameScope), to release it when the actor dies
  ResourceSet held;   // resources held for the actor's whole life
};

/// One argument as it travels: an inline value, or an object to fetch from `location`.
struct ArgSpec {
  BufferPtr value;  // inline
  ObjectId id;      // by reference (when value is null)
  Rank location = kNoRank;
};

/// What an executor needs to run a task.
struct TaskSpec {
  TaskId id;
  std::string function;
  std::string name;
  /// What it takes from the executing rank while it runs. Work scheduled into a placement group
  /// demands the group's resources instead (DemandInBundle): `resources` then names those.
  ResourceSet resources;
  PlacementGroupId placement_group;  // nil: none
  int32_t bundle_index = -1;         // with placement_group: its bundle (-1: any on the rank)
  bool capture_child_tasks = false;  // children default to the same placement group
  uint32_t spillbacks = 0;           // times an executor sent it back (it stops at a limit)
  bool spillable = false;            // DEFAULT/SPREAD tasks: an executor may send it back
  std::vector<ArgSpec> args;
  TaskKind kind = TaskKind::kNormal;
  ActorId actor;               // kActorCreation, kActorCall
  uint64_t caller_seq = 0;     // kActorCall: 1, 2, ... per (caller rank, actor)
  std::string group;           // kActorCall: concurrency group chosen by the call, or empty
  ActorCreationSpec creation;  // kActorCreation
};

/// Ends an actor: at once (Kill), or once every call a caller submitted has run (its owner
/// dropped the last handle).
struct KillRequest {
  ActorId actor;
  bool no_restart = true;
  bool after_calls = false;  // wait for calls 1..last_seq of `caller`
  Rank caller = kNoRank;
  uint64_t last_seq = 0;
  std::string reason;
};

/// A request to the actor name directory on rank 0.
struct NameRequest {
  enum Op : uint8_t { kRegister = 0, kLookup = 1, kRelease = 2 };
  uint64_t request_id = 0;  // echoed in the reply; 0 for kRelease (no reply)
  Op op = kLookup;
  std::string scope;
  std::string name;
  ActorId actor;          // kRegister, kRelease
  Rank rank = kNoRank;    // kRegister: the actor's rank
  std::string class_tag;  // kRegister
};

/// The directory's answer: the actor now holding the name, if any.
struct NameReply {
  enum Status : uint8_t { kRegistered = 0, kFound = 1, kAbsent = 2, kTaken = 3 };
  uint64_t request_id = 0;
  Status status = kAbsent;
  ActorId actor;
  Rank rank = kNoRank;
  std::string class_tag;
};

/// How a task ended, as its owner learns it.
struct TaskResult {
  TaskId id;
  BufferPtr value;                  // inline result (value or error object), or null when stored
  uint64_t stored_size = 0;         // result kept in the executor's store (value == null)
  std::vector<ObjectId> contained;  // ObjectRefs serialized inside the result
};

/// A borrower's registration with an owner (kAddBorrower), and its acknowledgement
/// (kBorrowerAdded, ids empty).
struct BorrowRequest {
  uint64_t seq = 0;
  std::vector<ObjectId> ids;
};

/// The owner's answer about an object.
struct ObjectStatus {
  enum Kind : uint8_t { kInline = 0, kLocated = 1 };
  ObjectId id;
  Kind kind = kInline;
  BufferPtr value;          // kInline: the value (or an error object)
  Rank location = kNoRank;  // kLocated: holder of the primary copy
  uint64_t size = 0;
};

/// An executor gives a waiting task back to its owner: another rank has room (kTaskSpillback).
struct SpillbackMessage {
  TaskId id;
  Rank suggested = kNoRank;
};

/// The error every runtime decoder returns for bad input: "malformed <what>".
Error Malformed(const char* what);

void WriteResources(WireWriter& w, const ResourceSet& set);
/// Reads what WriteResources wrote; fails `r` on a negative amount.
ResourceSet ReadResources(WireReader& r);

std::vector<std::byte> EncodeTaskSpec(const TaskSpec& spec);
/// Decodes into buffers from `pool` (inline values are copied out of the message).
Result<TaskSpec> DecodeTaskSpec(std::span<const std::byte> bytes,
                                const std::shared_ptr<objstore::BufferPool>& pool);

std::vector<std::byte> EncodeTaskResult(const TaskResult& result);
Result<TaskResult> DecodeTaskResult(std::span<const std::byte> bytes,
                                    const std::shared_ptr<objstore::BufferPool>& pool);

std::vector<std::byte> EncodeObjectStatus(const ObjectStatus& status);
Result<ObjectStatus> DecodeObjectStatus(std::span<const std::byte> bytes,
                                        const std::shared_ptr<objstore::BufferPool>& pool);

std::vector<std::byte> EncodeKillRequest(const KillRequest& request);
Result<KillRequest> DecodeKillRequest(std::span<const std::byte> bytes);
std::vector<std::byte> EncodeNameRequest(const NameRequest& request);
Result<NameRequest> DecodeNameRequest(std::span<const std::byte> bytes);
std::vector<std::byte> EncodeNameReply(const NameReply& reply);
Result<NameReply> DecodeNameReply(std::span<const std::byte> bytes);

std::vector<std::byte> EncodeBorrowRequest(const BorrowRequest& request);
Result<BorrowRequest> DecodeBorrowRequest(std::span<const std::byte> bytes);
std::vector<std::byte> EncodeTaskIdMessage(const TaskId& id);
Result<TaskId> DecodeTaskIdMessage(std::span<const std::byte> bytes);

std::vector<std::byte> EncodeResourceReport(const ResourceReport& report);
Result<ResourceReport> DecodeResourceReport(std::span<const std::byte> bytes);
std::vector<std::byte> EncodeSpillback(const SpillbackMessage& message);
Result<SpillbackMessage> DecodeSpillback(std::span<const std::byte> bytes);

std::vector<std::byte> EncodeObjectIds(std::span<const ObjectId> ids);
Result<std::vector<ObjectId>> DecodeObjectIds(std::span<const std::byte> bytes);

}  // namespace prism::runtime
