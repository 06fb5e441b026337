#pragma once
// Runtime wire messages: their types and codecs. Every decoder treats its input as untrusted and
// returns kMalformed instead of reading past the end or trusting a count.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/objstore/object_buffer.h"
#include "prism/transport/message.h"
#include "resources.h"

namespace prism::runtime {

using BufferPtr = std::shared_ptr<objstore::ObjectBuffer>;

enum RuntimeMessage : transport::MessageType {
  kSubmitTask = transport::kRuntimeTypesBegin,  ///< owner -> executor: TaskSpec
  kTaskDone,                                    ///< executor -> owner: TaskResult
  kObjectStatusRequest,                         ///< borrower -> owner: ObjectId
  kObjectStatusReply,                           ///< owner -> borrower: ObjectStatus
  kFreeObjects,      ///< owner -> holder: ObjectIds whose primary copy can go
  kShutdownPrepare,  ///< driver -> all: stop taking work
  kShutdownReady,    ///< all -> driver: drained
  kShutdownCommit,   ///< driver -> all: leave now
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
  ResourceSet resources;
  std::vector<ArgSpec> args;
};

/// How a task ended, as its owner learns it.
struct TaskResult {
  TaskId id;
  BufferPtr value;            // inline result (value or error object), or null when stored
  uint64_t stored_size = 0;   // result kept in the executor's store (value == null)
  int64_t executor_load = 0;  // executor's queued + running tasks, for the owner's view
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

std::vector<std::byte> EncodeObjectIds(std::span<const ObjectId> ids);
Result<std::vector<ObjectId>> DecodeObjectIds(std::span<const std::byte> bytes);

}  // namespace prism::runtime
