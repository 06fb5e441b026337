#include "accelerator_type.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <vector>

namespace prism::runtime {
namespace {

std::string Upper(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
    size_t start = i;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) == 0) ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
  return words;
}

// Letters and digits of `word` before its first '-', upper case.
std::string ModelPart(std::string_view word) {
  std::string out;
  for (char c : word.substr(0, word.find('-'))) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace

std::string NormalizeGpuModel(std::string_view model) {
  static constexpr std::array<std::string_view, 6> kBrands = {"NVIDIA", "TESLA", "GEFORCE",
                                                              "QUADRO", "AMD",   "INSTINCT"};
  std::vector<std::string_view> words = Words(model);
  size_t i = 0;
  while (i < words.size() &&
         std::find(kBrands.begin(), kBrands.end(), Upper(words[i])) != kBrands.end()) {
    ++i;
  }
  if (i == words.size()) return "";
  std::string type = ModelPart(words[i]);
  if ((type == "RTX" || type == "GTX") && i + 1 < words.size()) {
    std::string next = ModelPart(words[i + 1]);
    if (!next.empty()) type += "_" + next;
  }
  return type;
}

std::string SlurmGpuType(std::string_view value) {
  std::string type;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = std::min(value.find(',', start), value.size());
    std::string_view item = value.substr(start, comma - start);
    start = comma + 1;
    // "[gpu:][type:]count"
    std::vector<std::string_view> parts;
    size_t p = 0;
    while (p <= item.size()) {
      size_t colon = std::min(item.find(':', p), item.size());
      parts.push_back(item.substr(p, colon - p));
      p = colon + 1;
    }
    if (!parts.empty() && parts.front() == "gpu") parts.erase(parts.begin());
    if (parts.size() != 2 || parts[0].empty()) return "";  // no type, or not understood
    std::string this_type = Upper(parts[0]);
    if (!type.empty() && type != this_type) return "";  // mixed types: none
    type = this_type;
  }
  if (!std::all_of(type.begin(), type.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
      })) {
    return "";
  }
  return type;
}

std::string DetectAcceleratorType(const AcceleratorSources& sources) {
  std::error_code ec;
  std::vector<std::filesystem::path> gpus;
  for (const auto& entry : std::filesystem::directory_iterator(sources.nvidia_gpus_dir, ec)) {
    gpus.push_back(entry.path());
  }
  std::sort(gpus.begin(), gpus.end());  // bus ids: the first GPU on the bus first
  for (const auto& dir : gpus) {
    std::ifstream in(dir / "information");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("Model:", 0) != 0) continue;
      std::string type = NormalizeGpuModel(std::string_view(line).substr(6));
      if (!type.empty()) return type;
    }
  }
  for (const char* name :
       {"SLURM_GPUS_PER_TASK", "SLURM_GPUS_PER_NODE", "SLURM_GPUS_PER_SOCKET", "SLURM_GPUS"}) {
    const char* value = sources.get_env(name);
    if (value == nullptr) continue;
    std::string type = SlurmGpuType(value);
    if (!type.empty()) return type;
  }
  return "";
}

}  // namespace prism::runtime
