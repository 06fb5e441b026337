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

Error Malformed(const char* what) {
  return MakeError(ErrorCode::kMalformed, std::string("malformed ") + what);
}

}  // namespace

std::vector<std::byte> EncodeTaskSpec(const TaskSpec& spec) {
  std::vector<std::byte> out;
  size_t inline_bytes = 0;
  for (const auto& a : spec.args) inline_bytes += a.value ? a.value->size() + 48 : 32;
  out.reserve(64 + spec.function.size() + spec.name.size() + inline_bytes);
  WireWriter w(out);
  w.Task(spec.id);
  w.String(spec.function);
  w.String(spec.name);
  w.U32(static_cast<uint32_t>(spec.resources.entries().size()));
  for (const auto& [name, units] : spec.resources.entries()) {
    w.String(name);
    w.I64(units);
  }
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
  return out;
}

Result<TaskSpec> DecodeTaskSpec(std::span<const std::byte> bytes,
                                const std::shared_ptr<objstore::BufferPool>& pool) {
  WireReader r(bytes);
  TaskSpec spec;
  spec.id = r.Task();
  spec.function = r.String();
  spec.name = r.String();
  uint32_t resources = r.Count(kMinResourceBytes);
  for (uint32_t i = 0; i < resources && r.ok(); ++i) {
    std::string name = r.String();
    int64_t units = r.I64();
    if (units < 0) r.Fail();
    spec.resources.SetUnits(name, units);
  }
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
  if (!r.AtEnd() || spec.id.IsNil() || spec.function.empty()) return Malformed("task spec");
  return spec;
}

std::vector<std::byte> EncodeTaskResult(const TaskResult& result) {
  std::vector<std::byte> out;
  out.reserve(48 + (result.value ? result.value->size() + 16 : 0));
  WireWriter w(out);
  w.Task(result.id);
  w.I64(result.executor_load);
  if (result.value) {
    w.U8(0);
    PutBuffer(w, *result.value);
  } else {
    w.U8(1);
    w.U64(result.stored_size);
  }
  return out;
}

Result<TaskResult> DecodeTaskResult(std::span<const std::byte> bytes,
                                    const std::shared_ptr<objstore::BufferPool>& pool) {
  WireReader r(bytes);
  TaskResult result;
  result.id = r.Task();
  result.executor_load = r.I64();
  uint8_t kind = r.U8();
  if (kind == 0) {
    result.value = GetBuffer(r, pool);
  } else if (kind == 1) {
    result.stored_size = r.U64();
  } else {
    r.Fail();
  }
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

std::vector<std::byte> EncodeObjectIds(std::span<const ObjectId> ids) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U32(static_cast<uint32_t>(ids.size()));
  for (const auto& id : ids) w.Object(id);
  return out;
}

Result<std::vector<ObjectId>> DecodeObjectIds(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  uint32_t n = r.Count(kObjectIdBytes);
  std::vector<ObjectId> ids;
  ids.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) ids.push_back(r.Object());
  if (!r.AtEnd()) return Malformed("object id list");
  return ids;
}

}  // namespace prism::runtime
