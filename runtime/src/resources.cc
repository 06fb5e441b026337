#include "resources.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace prism::runtime {

Status ResourceSet::Set(const std::string& name, double amount) {
  if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "a resource needs a name");
  if (!std::isfinite(amount) || amount < 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("resource {} = {} must be a finite amount >= 0", name, amount));
  }
  if (amount > kMaxResourceAmount) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("resource {} = {} is above the largest amount, {:g}", name, amount,
                                 kMaxResourceAmount));
  }
  double units = amount * kResourceUnit;
  if (std::abs(units - std::round(units)) > 1e-6) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("resource {} = {} is finer than the 0.0001 precision", name, amount));
  }
  if (amount > 1 && std::abs(amount - std::round(amount)) > 1e-9) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("resource {} = {}: amounts above 1 must be whole numbers", name, amount));
  }
  SetUnits(name, static_cast<int64_t>(std::llround(units)));
  return Status::Ok();
}

void ResourceSet::SetUnits(const std::string& name, int64_t units) {
  for (auto& [n, u] : entries_) {
    if (n == name) {
      u = units;
      return;
    }
  }
  entries_.emplace_back(name, units);
}

int64_t ResourceSet::Units(const std::string& name) const {
  for (const auto& [n, u] : entries_) {
    if (n == name) return u;
  }
  return 0;
}

bool ResourceSet::FitsIn(const ResourceSet& capacity, std::string* missing) const {
  for (const auto& [name, units] : entries_) {
    if (units > capacity.Units(name)) {
      if (missing != nullptr) *missing = name;
      return false;
    }
  }
  return true;
}

void ResourceSet::Add(const ResourceSet& other) {
  for (const auto& [name, units] : other.entries_) SetUnits(name, Units(name) + units);
}

void ResourceSet::Subtract(const ResourceSet& other) {
  for (const auto& [name, units] : other.entries_) SetUnits(name, Units(name) - units);
}

void ResourceSet::Erase(const std::string& name) {
  std::erase_if(entries_, [&](const auto& e) { return e.first == name; });
}

bool ResourceSet::NonNegative() const {
  return std::all_of(entries_.begin(), entries_.end(), [](const auto& e) { return e.second >= 0; });
}

std::vector<std::pair<std::string, double>> ResourceSet::Amounts() const {
  std::vector<std::pair<std::string, double>> out;
  out.reserve(entries_.size());
  for (const auto& [name, units] : entries_)
    out.emplace_back(name, static_cast<double>(units) / kResourceUnit);
  return out;
}

bool operator==(const ResourceSet& a, const ResourceSet& b) {
  // Same amounts, whatever the order; a missing entry equals 0.
  for (const auto& [name, units] : a.entries_) {
    if (b.Units(name) != units) return false;
  }
  for (const auto& [name, units] : b.entries_) {
    if (a.Units(name) != units) return false;
  }
  return true;
}

std::string ResourceSet::ToString() const {
  std::string out = "{";
  for (const auto& [name, units] : entries_) {
    if (out.size() > 1) out += ", ";
    out += fmt::format("{}: {}", name, static_cast<double>(units) / kResourceUnit);
  }
  return out + "}";
}

}  // namespace prism::runtime
