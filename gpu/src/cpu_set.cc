#include "prism/gpu/cpu_set.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>

#include "prism/common/check.h"

namespace prism::gpu {
namespace {

Error ParseError(std::string_view text, std::string_view token, std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument, "cpu list \"" + std::string(text) +
                                                    "\": " + std::string(why) + " \"" +
                                                    std::string(token) + "\"");
}

// A decimal PU index in [0, kMaxPuIndex], or -1 when `digits` is not one.
int ParseIndex(std::string_view digits) {
  if (digits.empty() || digits.size() > 7) return -1;
  int value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || value < 0 ||
      value > CpuSet::kMaxPuIndex) {
    return -1;
  }
  return value;
}

}  // namespace

CpuSet::CpuSet(std::vector<int> pus) : pus_(std::move(pus)) {
  std::sort(pus_.begin(), pus_.end());
  pus_.erase(std::unique(pus_.begin(), pus_.end()), pus_.end());
  PRISM_CHECK(pus_.empty() || (pus_.front() >= 0 && pus_.back() <= kMaxPuIndex),
              "CpuSet: PU index out of [0, {}]", kMaxPuIndex);
}

Result<CpuSet> CpuSet::Parse(std::string_view text) {
  std::vector<int> pus;
  if (text.empty()) return CpuSet();
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view token = text.substr(start, comma - start);
    if (token.empty()) return ParseError(text, token, "empty entry");
    size_t dash = token.find('-');
    int first = ParseIndex(token.substr(0, dash));
    int last = dash == std::string_view::npos ? first : ParseIndex(token.substr(dash + 1));
    if (first < 0 || last < 0) return ParseError(text, token, "bad entry");
    if (last < first) return ParseError(text, token, "descending range");
    for (int pu = first; pu <= last; ++pu) pus.push_back(pu);
    start = comma + 1;
  }
  return CpuSet(std::move(pus));
}

bool CpuSet::Contains(int pu) const { return std::binary_search(pus_.begin(), pus_.end(), pu); }

bool CpuSet::Intersects(const CpuSet& other) const { return !Intersection(other).empty(); }

bool CpuSet::IsSubsetOf(const CpuSet& other) const {
  return std::includes(other.pus_.begin(), other.pus_.end(), pus_.begin(), pus_.end());
}

CpuSet CpuSet::Intersection(const CpuSet& other) const {
  CpuSet result;
  std::set_intersection(pus_.begin(), pus_.end(), other.pus_.begin(), other.pus_.end(),
                        std::back_inserter(result.pus_));
  return result;
}

CpuSet CpuSet::Union(const CpuSet& other) const {
  CpuSet result;
  std::set_union(pus_.begin(), pus_.end(), other.pus_.begin(), other.pus_.end(),
                 std::back_inserter(result.pus_));
  return result;
}

std::string CpuSet::ToString() const {
  std::string out;
  for (size_t i = 0; i < pus_.size();) {
    size_t j = i;
    while (j + 1 < pus_.size() && pus_[j + 1] == pus_[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(pus_[i]);
    if (j > i) out += '-' + std::to_string(pus_[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace prism::gpu
