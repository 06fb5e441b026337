#pragma once
// Placement-group wire messages (types kPlacementGroupTypesBegin..): requests to the controller
// on rank 0 and its replies, the two-phase bundle reservation between the controller and the
// ranks hosting bundles, and the controller's notices of removed or rescheduled groups. Every
// decoder treats its input as untrusted and returns kMalformed instead of reading past the end
// or trusting a count.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "messages.h"
#include "prism/common/ids.h"
#include "prism/common/result.h"
#include "prism/runtime/placement_group.h"
#include "resources.h"

namespace prism::runtime {

enum PlacementGroupMessage : transport::MessageType {
  kPgRequest = kPlacementGroupTypesBegin,  ///< any -> rank 0: PgRequest
  kPgReply,                                ///< rank 0 -> requester: PgReply
  kPgPrepare,    ///< rank 0 -> host: BundleOp (reserve these bundles now, or refuse)
  kPgPrepared,   ///< host -> rank 0: BundleAck
  kPgCommit,     ///< rank 0 -> host: BundleOp (add the bundles' group resources)
  kPgCommitted,  ///< host -> rank 0: BundleAck
  kPgCancel,     ///< rank 0 -> host: BundleOp (give back what that attempt prepared)
  kPgReturn,     ///< rank 0 -> host: BundleOp (the group is removed: give back all of it)
  kPgUpdate,     ///< rank 0 -> all: PgUpdate (a group was removed or is being rescheduled)
  kPgReleased,   ///< host -> rank 0: BundleAck (a cancel or return was done)
};
static_assert(kPgReleased < kPlacementGroupTypesEnd);

/// One group as the controller describes it.
struct PgInfo {
  PlacementGroupId id;
  std::string name;  // empty: anonymous
  bool global = false;
  PlacementStrategy strategy = PlacementStrategy::kPack;
  PlacementGroupState state = PlacementGroupState::kPending;
  std::vector<ResourceSet> bundles;
  std::vector<Rank> ranks;  // per bundle; kNoRank while not placed
};

/// A request to the controller.
struct PgRequest {
  enum Op : uint8_t {
    kCreate = 0,     ///< info: the group to create (id chosen by the requester)
    kRemove = 1,     ///< info.id
    kGet = 2,        ///< info.id
    kGetByName = 3,  ///< info.name, info.global, name_space
    kGetAll = 4,     ///< every group not removed
    kWatch = 5,      ///< info.id: answer once it is created, removed or unknown
  };
  uint64_t request_id = 0;
  Op op = kGet;
  std::string name_space;  // kCreate, kGetByName: the job's namespace
  PgInfo info;
};

/// The controller's answer.
struct PgReply {
  enum Code : uint8_t {
    kOk = 0,
    kInvalid = 1,        ///< a bad request (name taken, ...): message says why
    kUnschedulable = 2,  ///< no set of live ranks can ever hold the bundles
    kNotFound = 3,       ///< no such group
    kRemoved = 4,        ///< kWatch: the group was removed
  };
  uint64_t request_id = 0;
  Code code = kOk;
  std::string message;
  std::vector<PgInfo> groups;
};

/// Bundles of one group on one rank, in one reservation attempt.
struct BundleOp {
  PlacementGroupId pg;
  uint64_t seq = 0;      // the controller's count of operations sent to this rank
  uint64_t attempt = 0;  // kPgReturn: 0 (every attempt)
  std::vector<int32_t> indexes;
  std::vector<ResourceSet> bundles;  // kPgPrepare: one per index
  std::string reason;                // kPgReturn: why (for the errors of what ran in it)
};

/// A host's answer to an operation: kPgPrepared, kPgCommitted, kPgReleased.
struct BundleAck {
  PlacementGroupId pg;
  uint64_t seq = 0;  // the operation's
  uint64_t attempt = 0;
  bool ok = false;
  std::string reason;     // !ok: what did not fit
  ResourceSet available;  // the host's available resources right after the operation
};

/// A change every rank's cache must see.
struct PgUpdate {
  PlacementGroupId pg;
  PlacementGroupState state = PlacementGroupState::kRemoved;
};

void WritePlacementGroupId(WireWriter& w, const PlacementGroupId& id);
/// Fails `r` on a negative owner other than kNoRank.
PlacementGroupId ReadPlacementGroupId(WireReader& r);

std::vector<std::byte> EncodePgRequest(const PgRequest& request);
Result<PgRequest> DecodePgRequest(std::span<const std::byte> bytes);
std::vector<std::byte> EncodePgReply(const PgReply& reply);
Result<PgReply> DecodePgReply(std::span<const std::byte> bytes);
std::vector<std::byte> EncodeBundleOp(const BundleOp& op);
Result<BundleOp> DecodeBundleOp(std::span<const std::byte> bytes);
std::vector<std::byte> EncodeBundleAck(const BundleAck& ack);
Result<BundleAck> DecodeBundleAck(std::span<const std::byte> bytes);
std::vector<std::byte> EncodePgUpdate(const PgUpdate& update);
Result<PgUpdate> DecodePgUpdate(std::span<const std::byte> bytes);

}  // namespace prism::runtime
