#pragma once
/// PciBusId: a PCI address (domain:bus:device.function), the key that ties a CUDA device to
/// its place in the hwloc topology.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "prism/common/result.h"

namespace prism::gpu {

/// A PCI address. Parse accepts what hwloc, lspci, CUDA and nvidia-smi print ("0000:41:00.0",
/// "00000000:41:00.0", "0000:C1:00.0", "41:00.0"); ToString prints the canonical lower-case
/// form with a 4-digit domain, so two ids from different tools compare equal as values.
///
///   Result<PciBusId> id = PciBusId::Parse("00000000:C1:00.0");  // as nvidia-smi prints it
///   id->ToString();                                              // "0000:c1:00.0"
///
/// Thread contract: a value type; const methods are thread-safe.
struct PciBusId {
  std::uint32_t domain = 0;
  std::uint8_t bus = 0;
  std::uint8_t device = 0;    ///< 0..31
  std::uint8_t function = 0;  ///< 0..7

  /// Parses "[domain:]bus:device.function" in hex, any case. Errors (kInvalidArgument) name the
  /// text.
  static Result<PciBusId> Parse(std::string_view text);

  /// "0000:41:00.0".
  std::string ToString() const;

  auto operator<=>(const PciBusId& other) const = default;
};

}  // namespace prism::gpu
