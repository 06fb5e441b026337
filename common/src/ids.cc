#include "prism/common/ids.h"

#include <fmt/format.h>

namespace prism {

std::string JobId::Hex() const { return fmt::format("{:016x}", value); }

std::string TaskId::ToString() const { return fmt::format("task {}:{}", owner, seq); }

std::string TaskId::Hex() const {
  return fmt::format("{:08x}{:016x}", static_cast<uint32_t>(owner), seq);
}

std::string ActorId::ToString() const { return fmt::format("actor {}:{}", owner, seq); }

std::string ActorId::Hex() const { return creation_task().Hex(); }

std::string ObjectId::ToString() const { return fmt::format("obj {}:{}.{}", owner, seq, index); }

}  // namespace prism
