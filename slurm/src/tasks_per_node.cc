#include "prism/slurm/tasks_per_node.h"

#include <cstdint>
#include <limits>
#include <string>

#include "decimal.h"
#include "prism/slurm/hostlist.h"

namespace prism::slurm {
namespace {

Error Fail(std::string_view value, std::size_t pos, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument, "per-node count list \"" + std::string(value) +
                                                    "\": " + why + " at position " +
                                                    std::to_string(pos));
}

}  // namespace

Result<std::vector<int>> ParseTasksPerNode(std::string_view value) {
  constexpr std::uint64_t kMaxCount = std::numeric_limits<int>::max();
  if (value.empty()) return Fail(value, 0, "empty value");
  std::vector<int> counts;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = value.find(',', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view entry = value.substr(pos, end - pos);
    if (entry.empty()) return Fail(value, pos, "empty entry");
    std::size_t paren = entry.find('(');
    auto count = internal::ParseDecimal(entry.substr(0, paren), kMaxCount);
    if (!count) {
      return Fail(value, pos,
                  "expected a count, not \"" + std::string(entry.substr(0, paren)) + "\"");
    }
    std::uint64_t repeat = 1;
    if (paren != std::string_view::npos) {
      std::string_view group = entry.substr(paren);  // "(xN)"
      auto parsed =
          group.size() > 3 && group.substr(0, 2) == "(x" && group.back() == ')'
              ? internal::ParseDecimal(group.substr(2, group.size() - 3), kMaxHostlistHosts)
              : std::nullopt;
      if (!parsed || *parsed == 0) {
        return Fail(value, pos + paren,
                    "expected a repeat \"(xN)\" with N >= 1, not \"" + std::string(group) + "\"");
      }
      repeat = *parsed;
    }
    if (counts.size() + repeat > kMaxHostlistHosts) {
      return Fail(value, pos, "more than " + std::to_string(kMaxHostlistHosts) + " nodes");
    }
    counts.insert(counts.end(), repeat, static_cast<int>(*count));
    if (end == value.size()) break;
    pos = end + 1;
  }
  return counts;
}

}  // namespace prism::slurm
