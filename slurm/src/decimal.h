#pragma once
// ParseDecimal: the whole of a string as an unsigned decimal number, for the Slurm parsers.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace prism::slurm::internal {

/// `text` as a decimal number in [0, max]; nullopt for an empty string, a sign, a non-digit or
/// a value above `max`.
inline std::optional<std::uint64_t> ParseDecimal(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > max) return std::nullopt;
  return value;
}

}  // namespace prism::slurm::internal
