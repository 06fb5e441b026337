#include "messages.h"

#include "prism/common/wire.h"

namespace prism::runtime {
namespace {

// Smallest encodings, used to bound counts read from the wire.
constexpr size_t kMinArgBytes = 1 + 4 + 4;
constexpr size_t kMinResourceBytes = 4 + 8;
constexpr size_t kObjectIdBytes = 16;

void PutBuffer(WireWriter& w, const objstore::ObjectBuffer& b) {
  w.Bytes(b.metadata());
  w.Bytes(b.data());
}

BufferPtr GetBuffer(WireReader& r, const std::shared_ptr<objstore::BufferPool>& pool) {
  auto metadata = r.Bytes();
  auto data = r.Bytes();
  if (!r.ok() || metadata.size() > objstore::ObjectBuffer::kMaxMetadata) {
    r.Fail();
    return nullptr;
  }
  return objstore::ObjectBuffer::CopyOf(pool, metadata, data);
}

// A counted list of object ids.
void WriteObjectIds(WireWriter& w, std::span<const ObjectId> ids) {
  w.U32(static_cast<uint32_t>(ids.size()));
  for (const ObjectId& id : ids) w.Object(id);
}

std::vector<ObjectId> ReadObjectIds(WireReader& r) {
  uint32_t n = r.Count(kObjectIdBytes);
  std::vector<ObjectId> ids;
  ids.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) ids.push_back(r.Object());
  return ids;
}

void WriteActor(WireWriter& w, const ActorId& id) {
  w.I32(id.owner);
  w.U64(id.seq);
}

ActorId ReadActor(WireReader& r) {
  ActorId id;
  id.owner = r.I32();
  id.seq = r.U64();
  if (id.owner < 0) r.Fail();
  return id;
}

void WriteCreation(WireWriter& w, const ActorCreationSpec& c) {
  w.String(c.class_tag);
  w.I32(c.max_concurrency);
  w.I32(c.max_restarts);
  w.Bool(c.detached);
  w.U32(static_cast<uint32_t>(c.groups.size()));
  for (const auto& g : c.groups) {
    w.String(g.name);
    w.I32(g.max_concurrency);
    w.U32(static_cast<uint32_t>(g.methods.size()));
    for (const auto& m : g.methods) w.String(m);
  }
  w.String(c.name);
  w.String(c.scope);
  WriteResources(w, c.held);
}

ActorCreationSpec ReadCreation(WireReader& r) {
  ActorCreationSpec c;
  c.class_tag = r.String();
  c.max_concurrency = r.I32();
  c.max_restarts = r.I32();
  c.detached = r.U8() != 0;
  uint32_t groups = r.Count(4 + 4 + 4);
  for (uint32_t i = 0; i < groups && r.ok(); ++i) {
    internal::ConcurrencyGroupSpec g;
    g.name = r.String();
    g.max_concurrency = r.I32();
    uint32_t methods = r.Count(4);
    for (uint32_t k = 0; k < methods && r.ok(); ++k) g.methods.push_back(r.String());
    if (g.max_concurrency < 1) r.Fail();
    c.groups.push_back(std::move(g));
  }
  c.name = r.String();
  c.scope = r.String();
  c.held = ReadResources(r);
  if (c.max_concurrency < 1 || c.max_restarts < -1) r.Fail();
  return c;
}

}  // namespace

Error Malformed(const char* what) {
  return MakeError(ErrorCode::kMalformed, std::string("malformed ") + what);
}

void WriteResources(WireWriter& w, const ResourceSet& set) {
  w.U32(static_cast<uint32_t>(set.entries().size()));
  for (const auto& [name, units] : set.entries()) {
    w.String(name);
    w.I64(units);
  }
}

ResourceSet ReadResources(WireReader& r) {
  ResourceSet set;
  uint32_t n = r.Count(kMinResourceBytes);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string name = r.String();
    int64_t units = r.I64();
    if (units < 0) r.Fail();
    set.SetUnits(name, units);
  }
  return set;
}

std::vector<std::byte> EncodeTaskSpec(const TaskSpec& spec) {
  std::vector<std::byte> out;
  size_t inline_bytes = 0;
  for (const auto& a : spec.args) inline_bytes += a.value ? a.value->size() + 48 : 32;
  out.reserve(64 + spec.function.size() + spec.name.size() + inline_bytes);
  WireWriter w(out);
  w.Task(spec.id);
  w.String(spec.function);
  w.String(spec.name);
  WriteResources(w, spec.resources);
  w.I32(spec.placement_group.owner);
  w.U64(spec.placement_group.seq);
  w.I32(spec.bundle_index);
  w.U8(spec.capture_child_tasks ? 1 : 0);
  w.U32(spec.spillbacks);
  w.U8(spec.spillable ? 1 : 0);
  w.U32(static_cast<uint32_t>(spec.args.size()));
  for (const auto& a : spec.args) {
    if (a.value) {
      w.U8(0);
      PutBuffer(w, *a.value);
    } else {
      w.U8(1);
      w.Object(a.id);
      w.I32(a.location);
    }
  }
  w.U8(static_cast<uint8_t>(spec.kind));
  if (spec.kind != TaskKind::kNormal) WriteActor(w, spec.actor);
  if (spec.kind == TaskKind::kActorCall) {
    w.U64(spec.caller_seq);
    w.String(spec.group);
  } else if (spec.kind == TaskKind::kActorCreation) {
    WriteCreation(w, spec.creation);
  }
  return out;
}

Result<TaskSpec> DecodeTaskSpec(std::span<const std::byte> bytes,
                                const std::shared_ptr<objstore::BufferPool>& pool) {
  WireReader r(bytes);
  TaskSpec spec;
  spec.id = r.Task();
  spec.function = r.String();
  spec.name = r.String();
  spec.resources = ReadResources(r);
  spec.placement_group.owner = r.I32();
  spec.placement_group.seq = r.U64();
  spec.bundle_index = r.I32();
  spec.capture_child_tasks = r.U8() != 0;
  spec.spillbacks = r.U32();
  spec.spillable = r.U8() != 0;
  if (spec.placement_group.owner < kNoRank || spec.bundle_index < -1) r.Fail();
  uint32_t args = r.Count(kMinArgBytes);
  spec.args.reserve(args);
  for (uint32_t i = 0; i < args && r.ok(); ++i) {
    ArgSpec a;
    uint8_t kind = r.U8();
    if (kind == 0) {
      a.value = GetBuffer(r, pool);
    } else if (kind == 1) {
      a.id = r.Object();
      a.location = r.I32();
      if (a.id.IsNil() || a.location < 0) r.Fail();
    } else {
      r.Fail();
    }
    spec.args.push_back(std::move(a));
  }
  uint8_t kind = r.U8();
  if (kind > static_cast<uint8_t>(TaskKind::kActorCall)) r.Fail();
  spec.kind = static_cast<TaskKind>(kind);
  if (spec.kind != TaskKind::kNormal) spec.actor = ReadActor(r);
  if (spec.kind == TaskKind::kActorCall) {
    spec.caller_seq = r.U64();
    spec.group = r.String();
    if (spec.caller_seq == 0) r.Fail();
  } else if (spec.kind == TaskKind::kActorCreation) {
    spec.creation = ReadCreation(r);
  }
  if (!r.AtEnd() || spec.id.IsNil() || spec.function.empty()) return Malformed("task spec");
  return spec;
}

std::vector<std::byte> EncodeTaskResult(const TaskResult& result) {
  std::vector<std::byte> out;
  out.reserve(48 + (result.value ? result.value->size() + 16 : 0));
  WireWriter w(out);
  w.Task(result.id);
  if (result.value) {
    w.U8(0);
    PutBuffer(w, *result.value);
  } else {
    w.U8(1);
    w.U64(result.stored_size);
  }
  WriteObjectIds(w, result.contained);
  return out;
}

Result<TaskResult> DecodeTaskResult(std::span<const std::byte> bytes,
                                    const std::shared_ptr<objstore::BufferPool>& pool) {
  WireReader r(bytes);
  TaskResult result;
  result.id = r.Task();
  uint8_t kind = r.U8();
  if (kind == 0) {
    result.value = GetBuffer(r, pool);
  } else if (kind == 1) {
    result.stored_size = r.U64();
  } else {
    r.Fail();
  }
  result.contained = ReadObjectIds(r);
  if (!r.AtEnd() || result.id.IsNil()) return Malformed("task result");
  return result;
}

std::vector<std::byte> EncodeObjectStatus(const ObjectStatus& status) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.Object(status.id);
  w.U8(status.kind);
  if (status.kind == ObjectStatus::kInline) {
    PutBuffer(w, *status.value);
  } else {
    w.I32(status.location);
    w.U64(status.size);
  }
  return out;
}

Result<ObjectStatus> DecodeObjectStatus(std::span<const std::byte> bytes,
                                        const std::shared_ptr<objstore::BufferPool>& pool) {
  WireReader r(bytes);
  ObjectStatus status;
  status.id = r.Object();
  uint8_t kind = r.U8();
  if (kind == ObjectStatus::kInline) {
    status.kind = ObjectStatus::kInline;
    status.value = GetBuffer(r, pool);
  } else if (kind == ObjectStatus::kLocated) {
    status.kind = ObjectStatus::kLocated;
    status.location = r.I32();
    status.size = r.U64();
    if (status.location < 0) r.Fail();
  } else {
    r.Fail();
  }
  if (!r.AtEnd() || status.id.IsNil()) return Malformed("object status");
  return status;
}

std::vector<std::byte> EncodeKillRequest(const KillRequest& request) {
  std::vector<std::byte> out;
  WireWriter w(out);
  WriteActor(w, request.actor);
  w.Bool(request.no_restart);
  w.Bool(request.after_calls);
  w.I32(request.caller);
  w.U64(request.last_seq);
  w.String(request.reason);
  return out;
}

Result<KillRequest> DecodeKillRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  KillRequest k;
  k.actor = ReadActor(r);
  k.no_restart = r.U8() != 0;
  k.after_calls = r.U8() != 0;
  k.caller = r.I32();
  k.last_seq = r.U64();
  k.reason = r.String();
  if (!r.AtEnd()) return Malformed("kill request");
  return k;
}

std::vector<std::byte> EncodeNameRequest(const NameRequest& request) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(request.request_id);
  w.U8(request.op);
  w.String(request.scope);
  w.String(request.name);
  WriteActor(w, request.actor.IsNil() ? ActorId{0, 0} : request.actor);
  w.I32(request.rank);
  w.String(request.class_tag);
  return out;
}

Result<NameRequest> DecodeNameRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  NameRequest q;
  q.request_id = r.U64();
  uint8_t op = r.U8();
  if (op > NameRequest::kRelease) r.Fail();
  q.op = static_cast<NameRequest::Op>(op);
  q.scope = r.String();
  q.name = r.String();
  q.actor = ReadActor(r);
  q.rank = r.I32();
  q.class_tag = r.String();
  if (!r.AtEnd() || q.name.empty() || q.scope.empty()) return Malformed("actor name request");
  return q;
}

std::vector<std::byte> EncodeNameReply(const NameReply& reply) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(reply.request_id);
  w.U8(reply.status);
  WriteActor(w, reply.actor.IsNil() ? ActorId{0, 0} : reply.actor);
  w.I32(reply.rank);
  w.String(reply.class_tag);
  return out;
}

Result<NameReply> DecodeNameReply(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  NameReply a;
  a.request_id = r.U64();
  uint8_t status = r.U8();
  if (status > NameReply::kTaken) r.Fail();
  a.status = static_cast<NameReply::Status>(status);
  a.actor = ReadActor(r);
  a.rank = r.I32();
  a.class_tag = r.String();
  if (!r.AtEnd()) return Malformed("actor name reply");
  return a;
}

std::vector<std::byte> EncodeResourceReport(const ResourceReport& report) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(report.seq);
  WriteResources(w, report.total);
  w.U32(static_cast<uint32_t>(report.available.entries().size()));
  for (const auto& [name, units] : report.available.entries()) {
    w.String(name);
    w.I64(units);  // may be negative: a blocked task took its CPU back
  }
  w.I64(report.waiting);
  return out;
}

Result<ResourceReport> DecodeResourceReport(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  ResourceReport report;
  report.seq = r.U64();
  report.total = ReadResources(r);
  uint32_t n = r.Count(kMinResourceBytes);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string name = r.String();
    report.available.SetUnits(name, r.I64());
  }
  report.waiting = r.I64();
  if (!r.AtEnd() || report.waiting < 0) return Malformed("resource report");
  return report;
}

std::vector<std::byte> EncodeSpillback(const SpillbackMessage& message) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.Task(message.id);
  w.I32(message.suggested);
  return out;
}

Result<SpillbackMessage> DecodeSpillback(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  SpillbackMessage message;
  message.id = r.Task();
  message.suggested = r.I32();
  if (!r.AtEnd() || message.id.IsNil() || message.suggested < 0) return Malformed("spillback");
  return message;
}

std::vector<std::byte> EncodeObjectIds(std::span<const ObjectId> ids) {
  std::vector<std::byte> out;
  WireWriter w(out);
  WriteObjectIds(w, ids);
  return out;
}

Result<std::vector<ObjectId>> DecodeObjectIds(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  std::vector<ObjectId> ids = ReadObjectIds(r);
  if (!r.AtEnd()) return Malformed("object id list");
  return ids;
}

std::vector<std::byte> EncodeBorrowRequest(const BorrowRequest& request) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(request.seq);
  WriteObjectIds(w, request.ids);
  return out;
}

Result<BorrowRequest> DecodeBorrowRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  BorrowRequest request;
  request.seq = r.U64();
  request.ids = ReadObjectIds(r);
  if (!r.AtEnd()) return Malformed("borrow request");
  return request;
}

std::vector<std::byte> EncodeTaskIdMessage(const TaskId& id) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.Task(id);
  return out;
}

Result<TaskId> DecodeTaskIdMessage(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  TaskId id = r.Task();
  if (!r.AtEnd() || id.IsNil()) return Malformed("task id");
  return id;
}

}  // namespace prism::runtime
