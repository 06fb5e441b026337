#include "resource_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>

#include "prism/slurm/hostlist.h"
#include "resources.h"

namespace prism::runtime {
namespace {

Error Bad(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A whole text as a double: no sign prefix '+', no hex, nothing left over.
Result<double> ParseAmount(std::string_view name, std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Bad(fmt::format("resource {}: '{}' is not a number", name, text));
  }
  return value;
}

// Checks `amount` as the capacity of `name` would be checked (ResourceSet::Set, which also bounds
// it), and appends it.
Status AddAmount(std::string_view name, double amount,
                 std::vector<std::pair<std::string, double>>* out) {
  if (!IsValidResourceName(name)) {
    return Bad(fmt::format("'{}' is not a resource name (letters, digits and _-:./)", name));
  }
  ResourceSet check;
  if (Status s = check.Set(std::string(name), amount); !s) return s;
  out->emplace_back(std::string(name), amount);
  return Status::Ok();
}

// "name=amount,name=amount".
Status ParseAssignments(std::string_view text, std::vector<std::pair<std::string, double>>* out) {
  if (Trim(text).empty()) return Bad("no resource (expected name=amount)");
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = Trim(text.substr(start, comma - start));
    start = comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Bad(fmt::format("'{}' is not name=amount", item));
    }
    std::string_view name = Trim(item.substr(0, eq));
    auto amount = ParseAmount(name, Trim(item.substr(eq + 1)));
    if (!amount) return amount.error();
    if (Status s = AddAmount(name, *amount, out); !s) return s;
  }
  return Status::Ok();
}

// A flat JSON object of numbers, as `ray start --resources='{"special_hardware": 1}'`.
class JsonAmounts {
 public:
  explicit JsonAmounts(std::string_view text) : text_(text) {}

  Status Parse(std::vector<std::pair<std::string, double>>* out) {
    SkipSpace();
    if (!Take('{')) return Bad("a JSON object starts with '{'");
    SkipSpace();
    if (Take('}')) return End();
    while (true) {
      SkipSpace();
      auto key = String();
      if (!key) return key.error();
      SkipSpace();
      if (!Take(':')) return Bad(fmt::format("JSON \"{}\": expected ':'", *key));
      SkipSpace();
      size_t begin = pos_;
      while (pos_ < text_.size() &&
             std::string_view("+-.0123456789eE").find(text_[pos_]) != std::string_view::npos) {
        ++pos_;
      }
      std::string_view number = text_.substr(begin, pos_ - begin);
      if (number.empty()) return Bad(fmt::format("JSON \"{}\": expected a number", *key));
      auto amount = ParseAmount(*key, number);
      if (!amount) return amount.error();
      if (Status s = AddAmount(*key, *amount, out); !s) return s;
      SkipSpace();
      if (Take('}')) return End();
      if (!Take(',')) return Bad(fmt::format("JSON \"{}\": expected ',' or '}}'", *key));
    }
  }

 private:
  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0) {
      ++pos_;
    }
  }
  bool Take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  Status End() {
    SkipSpace();
    if (pos_ != text_.size()) {
      return Bad(fmt::format("unexpected '{}' after the JSON object", text_.substr(pos_)));
    }
    return Status::Ok();
  }
  // A JSON string; only the escapes \" \\ \/ can occur in a resource name.
  Result<std::string> String() {
    if (!Take('"')) return Bad("JSON: expected a quoted resource name");
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
        if (c != '"' && c != '\\' && c != '/') {
          return Bad(fmt::format("JSON \"{}...\": escape '\\{}' is not allowed in a name", out, c));
        }
      }
      out += c;
    }
    if (!Take('"')) return Bad(fmt::format("JSON \"{}: unterminated string", out));
    return out;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// Items separated by commas outside brackets (a hostlist such as "n[1-3,5]" is one item).
Result<std::vector<RankSelectorItem>> ParseSelector(std::string_view text) {
  if (Trim(text).empty()) return Bad("empty selector after '@'");
  if (text.find('@') != std::string_view::npos) return Bad("more than one '@'");
  std::vector<RankSelectorItem> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = start;
    int depth = 0;
    while (end < text.size() && (text[end] != ',' || depth > 0)) {
      if (text[end] == '[') ++depth;
      if (text[end] == ']') --depth;
      ++end;
    }
    std::string_view item = Trim(text.substr(start, end - start));
    start = end + 1;
    if (item.empty()) return Bad(fmt::format("empty item in selector '{}'", text));
    size_t dash = item.find('-');
    auto rank_number = [&](std::string_view digits) -> Result<int> {
      int value = 0;
      auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec != std::errc() || p != digits.data() + digits.size()) {
        return Bad(fmt::format("rank '{}' in selector is too large", digits));
      }
      return value;
    };
    if (AllDigits(item)) {
      auto rank = rank_number(item);
      if (!rank) return rank.error();
      items.push_back({*rank, *rank, {}});
    } else if (dash != std::string_view::npos && AllDigits(item.substr(0, dash)) &&
               AllDigits(item.substr(dash + 1))) {
      auto first = rank_number(item.substr(0, dash));
      if (!first) return first.error();
      auto last = rank_number(item.substr(dash + 1));
      if (!last) return last.error();
      if (*first > *last) return Bad(fmt::format("rank range '{}' is descending", item));
      items.push_back({*first, *last, {}});
    } else {
      if (item.find_first_of("=;{}\" \t") != std::string_view::npos) {
        return Bad(fmt::format("'{}' is neither a rank, a rank range a-b nor a host name", item));
      }
      auto hosts = slurm::ExpandHostlist(item);
      if (!hosts) return Bad(fmt::format("host list '{}': {}", item, hosts.error().message));
      for (auto& host : *hosts) items.push_back({-1, -1, std::move(host)});
    }
  }
  return items;
}

std::string_view FirstLabel(std::string_view host) { return host.substr(0, host.find('.')); }

}  // namespace

bool IsValidResourceName(std::string_view name) {
  return !name.empty() && name.size() <= 256 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("_-:./").find(c) != std::string_view::npos;
  });
}

bool ResourceSpecEntry::AppliesTo(int rank, std::string_view host) const {
  if (selector.empty()) return true;
  return std::any_of(selector.begin(), selector.end(), [&](const RankSelectorItem& item) {
    if (item.first >= 0) return rank >= item.first && rank <= item.last;
    return item.host == host || FirstLabel(item.host) == host || item.host == FirstLabel(host);
  });
}

Result<std::vector<ResourceSpecEntry>> ParseResourceSpec(std::string_view text) {
  std::vector<ResourceSpecEntry> entries;
  size_t start = 0;
  for (int index = 1; start <= text.size(); ++index) {
    size_t semicolon = std::min(text.find(';', start), text.size());
    std::string_view piece = Trim(text.substr(start, semicolon - start));
    start = semicolon + 1;
    if (piece.empty()) continue;
    ResourceSpecEntry entry;
    entry.text = std::string(piece);
    auto fail = [&](const Error& e) {
      return Bad(fmt::format("resources entry {} '{}': {}", index, piece, e.message));
    };
    std::string_view amounts = piece;
    std::string_view selector;
    bool has_selector = false;
    if (piece.front() == '{') {
      size_t close = piece.rfind('}');
      if (close == std::string_view::npos) return fail(Bad("JSON object without a closing '}'"));
      amounts = piece.substr(0, close + 1);
      std::string_view rest = Trim(piece.substr(close + 1));
      if (!rest.empty()) {
        if (rest.front() != '@') {
          return fail(Bad(fmt::format("unexpected '{}' after the JSON object", rest)));
        }
        has_selector = true;
        selector = rest.substr(1);
      }
      Status s = JsonAmounts(amounts).Parse(&entry.amounts);
      if (!s) return fail(s.error());
    } else {
      size_t at = piece.find('@');
      if (at != std::string_view::npos) {
        has_selector = true;
        selector = piece.substr(at + 1);
        amounts = piece.substr(0, at);
      }
      Status s = ParseAssignments(amounts, &entry.amounts);
      if (!s) return fail(s.error());
    }
    if (has_selector) {
      auto items = ParseSelector(selector);
      if (!items) return fail(items.error());
      entry.selector = std::move(*items);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace prism::runtime
