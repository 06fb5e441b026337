#pragma once
/// Message types and the frame every message starts with.
///
/// Each layer owns a range of message types; a handler is registered per type. Every frame is
/// versioned and length-checked on arrival: a malformed frame is dropped and logged.

#include <cstdint>

namespace prism::transport {

/// A message type; layers own ranges of values.
using MessageType = uint8_t;

/// Types 0..15 belong to the transport itself, 16..63 to the object store, 64..159 to the
/// runtime, 160..223 to the collectives (160..191 control, 192..223 bulk: a type with a bulk
/// handler gets all its messages there); 224..255 are free.
inline constexpr MessageType kTransportTypesBegin = 0;
inline constexpr MessageType kObjstoreTypesBegin = 16;
inline constexpr MessageType kRuntimeTypesBegin = 64;
inline constexpr MessageType kCollectiveTypesBegin = 160;
inline constexpr MessageType kCollectiveTypesEnd = 224;  ///< One past the collectives' range.

/// Sent once on each endpoint at startup to finish UCX wire-up before the job starts.
inline constexpr MessageType kHello = 1;

/// Fixed header of every frame (little-endian, 12 bytes).
struct FrameHeader {
  uint16_t magic;   ///< kFrameMagic
  uint8_t version;  ///< kFrameVersion
  MessageType type;
  int32_t source;         ///< Sender's rank.
  uint32_t payload_size;  ///< Bytes after the header (control) or of the AM header's meta (bulk).
};
static_assert(sizeof(FrameHeader) == 12);

inline constexpr uint16_t kFrameMagic = 0x5250;  // "PR"
inline constexpr uint8_t kFrameVersion = 1;

}  // namespace prism::transport
