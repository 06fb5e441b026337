#include "prism/common/ids.h"

#include <fmt/format.h>

#include <limits>

namespace prism {

std::string JobId::Hex() const { return fmt::format("{:016x}", value); }

std::string TaskId::ToString() const { return fmt::format("task {}:{}", owner, seq); }

std::string TaskId::Hex() const {
  return fmt::format("{:08x}{:016x}", static_cast<uint32_t>(owner), seq);
}

std::string ActorId::ToString() const { return fmt::format("actor {}:{}", owner, seq); }

std::string ActorId::Hex() const { return creation_task().Hex(); }

std::string PlacementGroupId::ToString() const { return fmt::format("pg {}:{}", owner, seq); }

std::string PlacementGroupId::Hex() const {
  return fmt::format("{:08x}{:016x}", static_cast<uint32_t>(owner), seq);
}

PlacementGroupId PlacementGroupId::FromHex(const std::string& hex) {
  if (hex.size() != 24) return {};
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
  }
  uint64_t owner = std::stoull(hex.substr(0, 8), nullptr, 16);
  uint64_t seq = std::stoull(hex.substr(8), nullptr, 16);
  if (owner > static_cast<uint64_t>(std::numeric_limits<Rank>::max())) return {};
  return PlacementGroupId{static_cast<Rank>(owner), seq};
}

std::string ObjectId::ToString() const { return fmt::format("obj {}:{}.{}", owner, seq, index); }

}  // namespace prism
