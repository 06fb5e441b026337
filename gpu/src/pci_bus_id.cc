#include "prism/gpu/pci_bus_id.h"

#include <charconv>
#include <cstdio>

namespace prism::gpu {
namespace {

// Parses 1..max_digits hex digits as the whole of `text`; false otherwise.
bool ParseHex(std::string_view text, size_t max_digits, std::uint32_t* value) {
  if (text.empty() || text.size() > max_digits) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value, 16);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<PciBusId> PciBusId::Parse(std::string_view text) {
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument,
                     "PCI bus id \"" + std::string(text) +
                         "\": expected [domain:]bus:device.function in hex, e.g. 0000:41:00.0");
  };
  std::string_view rest = text;
  std::uint32_t domain = 0;
  std::uint32_t bus = 0;
  std::uint32_t device = 0;
  std::uint32_t function = 0;
  // Two colons: the domain is present; one: only bus:device.function.
  size_t first_colon = rest.find(':');
  if (first_colon == std::string_view::npos) return bad();
  if (rest.find(':', first_colon + 1) != std::string_view::npos) {
    if (!ParseHex(rest.substr(0, first_colon), 8, &domain)) return bad();
    rest.remove_prefix(first_colon + 1);
  }
  size_t colon = rest.find(':');
  size_t dot = rest.find('.');
  if (colon == std::string_view::npos || dot == std::string_view::npos || dot < colon) {
    return bad();
  }
  if (!ParseHex(rest.substr(0, colon), 2, &bus) ||
      !ParseHex(rest.substr(colon + 1, dot - colon - 1), 2, &device) ||
      !ParseHex(rest.substr(dot + 1), 1, &function) || device > 0x1f || function > 7) {
    return bad();
  }
  return PciBusId{domain, static_cast<std::uint8_t>(bus), static_cast<std::uint8_t>(device),
                  static_cast<std::uint8_t>(function)};
}

std::string PciBusId::ToString() const {
  char text[32];
  std::snprintf(text, sizeof(text), "%04x:%02x:%02x.%x", static_cast<unsigned>(domain),
                static_cast<unsigned>(bus), static_cast<unsigned>(device),
                static_cast<unsigned>(function));
  return text;
}

}  // namespace prism::gpu
