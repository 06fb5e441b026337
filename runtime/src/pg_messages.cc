#include "pg_messages.h"

#include "prism/common/wire.h"

namespace prism::runtime {
namespace {

// Smallest encodings, used to bound counts read from the wire.
constexpr size_t kMinResourceSetBytes = 4;
constexpr size_t kMinInfoBytes = 12 + 4 + 1 + 1 + 1 + 4 + 4;

PlacementStrategy ReadStrategy(WireReader& r) {
  uint8_t v = r.U8();
  if (v > static_cast<uint8_t>(PlacementStrategy::kStrictSpread)) r.Fail();
  return static_cast<PlacementStrategy>(v);
}

PlacementGroupState ReadState(WireReader& r) {
  uint8_t v = r.U8();
  if (v > static_cast<uint8_t>(PlacementGroupState::kUnknown)) r.Fail();
  return static_cast<PlacementGroupState>(v);
}

void WriteInfo(WireWriter& w, const PgInfo& info) {
  WritePlacementGroupId(w, info.id);
  w.String(info.name);
  w.Bool(info.global);
  w.U8(static_cast<uint8_t>(info.strategy));
  w.U8(static_cast<uint8_t>(info.state));
  w.U32(static_cast<uint32_t>(info.bundles.size()));
  for (const auto& b : info.bundles) WriteResources(w, b);
  w.U32(static_cast<uint32_t>(info.ranks.size()));
  for (Rank rank : info.ranks) w.I32(rank);
}

PgInfo ReadInfo(WireReader& r) {
  PgInfo info;
  info.id = ReadPlacementGroupId(r);
  info.name = r.String();
  info.global = r.Bool();
  info.strategy = ReadStrategy(r);
  info.state = ReadState(r);
  uint32_t n = r.Count(kMinResourceSetBytes);
  for (uint32_t i = 0; i < n && r.ok(); ++i) info.bundles.push_back(ReadResources(r));
  uint32_t m = r.Count(4);
  for (uint32_t i = 0; i < m && r.ok(); ++i) {
    Rank rank = r.I32();
    if (rank < kNoRank) r.Fail();
    info.ranks.push_back(rank);
  }
  return info;
}

}  // namespace

void WritePlacementGroupId(WireWriter& w, const PlacementGroupId& id) {
  w.I32(id.owner);
  w.U64(id.seq);
}

PlacementGroupId ReadPlacementGroupId(WireReader& r) {
  PlacementGroupId id;
  id.owner = r.I32();
  id.seq = r.U64();
  if (id.owner < kNoRank) r.Fail();
  return id;
}

std::vector<std::byte> EncodePgRequest(const PgRequest& request) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(request.request_id);
  w.U8(request.op);
  w.String(request.name_space);
  WriteInfo(w, request.info);
  return out;
}

Result<PgRequest> DecodePgRequest(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  PgRequest request;
  request.request_id = r.U64();
  uint8_t op = r.U8();
  if (op > PgRequest::kWatch) r.Fail();
  request.op = static_cast<PgRequest::Op>(op);
  request.name_space = r.String();
  request.info = ReadInfo(r);
  if (!r.AtEnd()) return Malformed("placement group request");
  return request;
}

std::vector<std::byte> EncodePgReply(const PgReply& reply) {
  std::vector<std::byte> out;
  WireWriter w(out);
  w.U64(reply.request_id);
  w.U8(reply.code);
  w.String(reply.message);
  w.U32(static_cast<uint32_t>(reply.groups.size()));
  for (const auto& g : reply.groups) WriteInfo(w, g);
  return out;
}

Result<PgReply> DecodePgReply(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  PgReply reply;
  reply.request_id = r.U64();
  uint8_t code = r.U8();
  if (code > PgReply::kRemoved) r.Fail();
  reply.code = static_cast<PgReply::Code>(code);
  reply.message = r.String();
  uint32_t n = r.Count(kMinInfoBytes);
  for (uint32_t i = 0; i < n && r.ok(); ++i) reply.groups.push_back(ReadInfo(r));
  if (!r.AtEnd()) return Malformed("placement group reply");
  return reply;
}

std::vector<std::byte> EncodeBundleOp(const BundleOp& op) {
  std::vector<std::byte> out;
  WireWriter w(out);
  WritePlacementGroupId(w, op.pg);
  w.U64(op.seq);
  w.U64(op.attempt);
  w.U32(static_cast<uint32_t>(op.indexes.size()));
  for (int32_t index : op.indexes) w.I32(index);
  w.U32(static_cast<uint32_t>(op.bundles.size()));
  for (const auto& b : op.bundles) WriteResources(w, b);
  w.String(op.reason);
  return out;
}

Result<BundleOp> DecodeBundleOp(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  BundleOp op;
  op.pg = ReadPlacementGroupId(r);
  op.seq = r.U64();
  op.attempt = r.U64();
  uint32_t n = r.Count(4);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    int32_t index = r.I32();
    if (index < 0) r.Fail();
    op.indexes.push_back(index);
  }
  uint32_t m = r.Count(kMinResourceSetBytes);
  for (uint32_t i = 0; i < m && r.ok(); ++i) op.bundles.push_back(ReadResources(r));
  op.reason = r.String();
  if (!r.AtEnd() || op.pg.IsNil()) return Malformed("bundle operation");
  if (!op.bundles.empty() && op.bundles.size() != op.indexes.size())
    return Malformed("bundle operation (bundles and indexes differ in number)");
  return op;
}

std::vector<std::byte> EncodeBundleAck(const BundleAck& ack) {
  std::vector<std::byte> out;
  WireWriter w(out);
  WritePlacementGroupId(w, ack.pg);
  w.U64(ack.seq);
  w.U64(ack.attempt);
  w.Bool(ack.ok);
  w.String(ack.reason);
  WriteResources(w, ack.available);
  return out;
}

Result<BundleAck> DecodeBundleAck(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  BundleAck ack;
  ack.pg = ReadPlacementGroupId(r);
  ack.seq = r.U64();
  ack.attempt = r.U64();
  ack.ok = r.Bool();
  ack.reason = r.String();
  ack.available = ReadResources(r);
  if (!r.AtEnd() || ack.pg.IsNil()) return Malformed("bundle acknowledgement");
  return ack;
}

std::vector<std::byte> EncodePgUpdate(const PgUpdate& update) {
  std::vector<std::byte> out;
  WireWriter w(out);
  WritePlacementGroupId(w, update.pg);
  w.U8(static_cast<uint8_t>(update.state));
  return out;
}

Result<PgUpdate> DecodePgUpdate(std::span<const std::byte> bytes) {
  WireReader r(bytes);
  PgUpdate update;
  update.pg = ReadPlacementGroupId(r);
  update.state = ReadState(r);
  if (!r.AtEnd() || update.pg.IsNil()) return Malformed("placement group update");
  return update;
}

}  // namespace prism::runtime
