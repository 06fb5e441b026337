#include "prism/objstore/memory_limit.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace prism::objstore {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
// cgroup v1 reports "no limit" as the largest page-aligned signed 64-bit value; anything this
// large is no limit.
constexpr uint64_t kNoLimitAbove = uint64_t{1} << 60;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  s = Trim(s);
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

// "/a/b" -> {"/a/b", "/a", ""}: the cgroup and its ancestors, deepest first.
std::vector<std::string> Ancestors(std::string_view path) {
  std::string p(Trim(path));
  while (!p.empty() && p.back() == '/') p.pop_back();
  std::vector<std::string> out;
  while (true) {
    out.push_back(p);
    if (p.empty()) return out;
    size_t slash = p.rfind('/');
    p = slash == std::string::npos ? std::string() : p.substr(0, slash);
  }
}

// The tightest limit in `file_name` along the cgroup's ancestors under `mount`.
Result<std::optional<NodeMemoryLimit>> CgroupLimit(const MemorySources& sources,
                                                   const std::string& mount,
                                                   std::string_view cgroup_path,
                                                   const std::string& file_name,
                                                   const std::string& version) {
  std::optional<NodeMemoryLimit> best;
  for (const std::string& dir : Ancestors(cgroup_path)) {
    std::string file = mount + dir + "/" + file_name;
    std::optional<std::string> text = sources.read_file(file);
    if (!text) continue;  // not every level is visible inside a container
    std::string_view value = Trim(*text);
    if (value == "max") continue;
    std::optional<uint64_t> bytes = ParseU64(value);
    if (!bytes) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("cannot read the memory limit in {}: '{}' is neither a "
                                   "number of bytes nor 'max'",
                                   file, value));
    }
    if (*bytes >= kNoLimitAbove) continue;
    if (!best || *bytes < best->bytes) best = NodeMemoryLimit{*bytes, version + " " + file};
  }
  return best;
}

Result<std::optional<NodeMemoryLimit>> FromCgroup(const MemorySources& sources) {
  std::optional<std::string> self = sources.read_file("/proc/self/cgroup");
  if (!self) return std::optional<NodeMemoryLimit>();
  std::optional<std::string_view> v1_path;
  std::optional<std::string_view> v2_path;
  for (std::string_view line : Split(*self, '\n')) {
    if (Trim(line).empty()) continue;
    // hierarchy-id:controller-list:path (the path may itself contain ':').
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       fmt::format("cannot read /proc/self/cgroup: line '{}' is not "
                                   "'hierarchy:controllers:path'",
                                   line));
    }
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (line.substr(0, first) == "0" && controllers.empty()) {
      v2_path = path;
      continue;
    }
    for (std::string_view c : Split(controllers, ',')) {
      if (c == "memory") v1_path = path;
    }
  }
  // In hybrid mode memory is accounted by the v1 hierarchy when it has the controller.
  if (v1_path) {
    auto v1 = CgroupLimit(sources, sources.cgroup_root + "/memory", *v1_path,
                          "memory.limit_in_bytes", "cgroup v1");
    if (!v1 || *v1) return v1;
  }
  if (v2_path) {
    return CgroupLimit(sources, sources.cgroup_root, *v2_path, "memory.max", "cgroup v2");
  }
  return std::optional<NodeMemoryLimit>();
}

Result<std::optional<uint64_t>> EnvU64(const MemorySources& sources, const char* name,
                                       const char* unit) {
  const char* value = sources.get_env(name);
  if (value == nullptr) return std::optional<uint64_t>();
  std::optional<uint64_t> parsed = ParseU64(value);
  if (!parsed) {
    return MakeError(ErrorCode::kInvalidArgument,
                     fmt::format("{}='{}' is not a number of {}", name, value, unit));
  }
  return parsed;
}

Result<std::optional<NodeMemoryLimit>> FromSlurm(const MemorySources& sources) {
  auto per_node = EnvU64(sources, "SLURM_MEM_PER_NODE", "MB");
  if (!per_node) return per_node.error();
  // 0 means "all of the node's memory": no limit of Slurm's own.
  if (*per_node && **per_node > 0) {
    return std::optional<NodeMemoryLimit>(NodeMemoryLimit{**per_node * kMiB, "SLURM_MEM_PER_NODE"});
  }
  auto per_cpu = EnvU64(sources, "SLURM_MEM_PER_CPU", "MB");
  if (!per_cpu) return per_cpu.error();
  if (!*per_cpu || **per_cpu == 0) return std::optional<NodeMemoryLimit>();
  auto cpus = EnvU64(sources, "SLURM_CPUS_ON_NODE", "CPUs");
  if (!cpus) return cpus.error();
  if (!*cpus || **cpus == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "SLURM_MEM_PER_CPU is set but SLURM_CPUS_ON_NODE is not (or is 0): cannot "
                     "tell the node's memory limit");
  }
  return std::optional<NodeMemoryLimit>(
      NodeMemoryLimit{**per_cpu * **cpus * kMiB, "SLURM_MEM_PER_CPU x SLURM_CPUS_ON_NODE"});
}

Result<std::optional<uint64_t>> MemTotal(const MemorySources& sources) {
  std::optional<std::string> text = sources.read_file("/proc/meminfo");
  if (!text) return std::optional<uint64_t>();
  for (std::string_view line : Split(*text, '\n')) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::string_view rest = Trim(line.substr(9));
    if (rest.size() > 2 && rest.substr(rest.size() - 2) == "kB") {
      if (auto kib = ParseU64(rest.substr(0, rest.size() - 2)); kib && *kib > 0) {
        return std::optional<uint64_t>(*kib * 1024);
      }
    }
    return MakeError(
        ErrorCode::kInvalidArgument,
        fmt::format("cannot read /proc/meminfo: '{}' is not 'MemTotal: <n> kB'", Trim(line)));
  }
  return MakeError(ErrorCode::kInvalidArgument, "cannot read /proc/meminfo: it has no MemTotal");
}

}  // namespace

MemorySources MemorySources::System() {
  MemorySources sources;
  sources.read_file = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return text.str();
  };
  sources.get_env = [](const char* name) -> const char* { return std::getenv(name); };
  return sources;
}

Result<NodeMemoryLimit> DetectNodeMemoryLimit(const MemorySources& sources) {
  auto total = MemTotal(sources);
  if (!total) return total.error();
  auto cgroup = FromCgroup(sources);
  if (!cgroup) return cgroup.error();
  std::optional<NodeMemoryLimit> limit = *cgroup;
  if (!limit) {
    auto slurm = FromSlurm(sources);
    if (!slurm) return slurm.error();
    limit = *slurm;
  }
  if (!*total) {
    if (limit) return *limit;
    return MakeError(ErrorCode::kNotFound,
                     "cannot tell this node's memory: no cgroup limit, no Slurm memory variable "
                     "and /proc/meminfo cannot be read");
  }
  if (!limit || limit->bytes > **total) return NodeMemoryLimit{**total, "/proc/meminfo MemTotal"};
  return *limit;
}

uint64_t DefaultStoreCapacity(uint64_t node_limit_bytes, int ranks_on_node, double fraction) {
  uint64_t share = node_limit_bytes / static_cast<uint64_t>(std::max(1, ranks_on_node));
  return static_cast<uint64_t>(static_cast<double>(share) * fraction);
}

}  // namespace prism::objstore
