#include "prism/slurm/hostlist.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "decimal.h"

namespace prism::slurm {
namespace {

// Numbers in brackets have at most 18 digits, so they and their counts fit in uint64_t.
constexpr std::size_t kMaxDigits = 18;

struct Range {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::size_t width = 0;  // Zero-padded to this many digits.
};

// One bracket "[...]" and the literal text that follows it up to the next bracket.
struct Bracket {
  std::vector<Range> ranges;
  std::string suffix;
};

// One comma-separated element: a literal prefix, then brackets.
struct Element {
  std::string prefix;
  std::vector<Bracket> brackets;
};

class Parser {
 public:
  explicit Parser(std::string_view expression) : text_(expression) {}

  Result<std::vector<std::string>> Expand() {
    std::vector<Element> elements;
    std::uint64_t total = 0;
    std::size_t pos = 0;
    if (text_.empty()) return std::vector<std::string>();
    while (true) {
      std::size_t element_start = pos;
      auto element = ParseElement(&pos);
      if (!element) return element.error();
      total += CountHosts(*element);
      if (total > kMaxHostlistHosts) {
        return Fail(element_start,
                    "expands to more than " + std::to_string(kMaxHostlistHosts) + " hosts");
      }
      elements.push_back(std::move(*element));
      if (pos == text_.size()) break;
      ++pos;  // The comma that ended the element.
    }
    std::vector<std::string> hosts;
    hosts.reserve(total);
    for (const Element& element : elements) Append(element, &hosts);
    return hosts;
  }

 private:
  Error Fail(std::size_t pos, const std::string& why) const {
    return MakeError(ErrorCode::kInvalidArgument, "hostlist \"" + std::string(text_) + "\": " +
                                                      why + " at position " + std::to_string(pos));
  }

  // Parses the element starting at *pos, up to a top-level comma or the end.
  Result<Element> ParseElement(std::size_t* pos) {
    Element element;
    std::size_t start = *pos;
    std::string* literal = &element.prefix;
    while (*pos < text_.size() && text_[*pos] != ',') {
      char c = text_[*pos];
      if (c == '[') {
        Bracket bracket;
        if (Status status = ParseBracket(pos, &bracket.ranges); !status.ok()) return status.error();
        element.brackets.push_back(std::move(bracket));
        literal = &element.brackets.back().suffix;
        continue;
      }
      if (c == ']') return Fail(*pos, "unbalanced ']'");
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return Fail(*pos, "whitespace");
      literal->push_back(c);
      ++*pos;
    }
    if (*pos == start) return Fail(start, "empty element");
    return element;
  }

  // Parses "[...]" at *pos, leaving *pos after the ']'.
  Status ParseBracket(std::size_t* pos, std::vector<Range>* ranges) {
    std::size_t open = *pos;
    std::size_t close = text_.find(']', open + 1);
    std::size_t nested = text_.find('[', open + 1);
    if (close == std::string_view::npos) return Fail(open, "unbalanced '['");
    if (nested < close) return Fail(nested, "nested '['");
    std::size_t start = open + 1;
    while (true) {
      std::size_t end = text_.find(',', start);
      if (end == std::string_view::npos || end > close) end = close;
      auto range = ParseRange(start, end);
      if (!range) return range.error();
      ranges->push_back(*range);
      if (end == close) break;
      start = end + 1;
    }
    *pos = close + 1;
    return Status::Ok();
  }

  // Parses "7", "001" or "001-010" in text_[start, end).
  Result<Range> ParseRange(std::size_t start, std::size_t end) {
    std::string_view token = text_.substr(start, end - start);
    if (token.empty()) return Fail(start, "empty range");
    std::size_t dash = token.find('-');
    std::string_view first = token.substr(0, dash);
    std::string_view last = dash == std::string_view::npos ? first : token.substr(dash + 1);
    constexpr std::uint64_t kMax = 999'999'999'999'999'999;
    auto number = [&](std::string_view digits, std::size_t at) -> Result<std::uint64_t> {
      auto value =
          digits.size() <= kMaxDigits ? internal::ParseDecimal(digits, kMax) : std::nullopt;
      if (!value) {
        return Fail(at, "expected a number" + std::string(digits.empty() ? "" : ", not \"") +
                            std::string(digits) + std::string(digits.empty() ? "" : "\""));
      }
      return *value;
    };
    auto first_value = number(first, start);
    if (!first_value) return first_value.error();
    std::size_t last_at = dash == std::string_view::npos ? start : start + dash + 1;
    auto last_value = number(last, last_at);
    if (!last_value) return last_value.error();
    if (*last_value < *first_value) {
      return Fail(start, "descending range \"" + std::string(token) + "\"");
    }
    return Range{*first_value, *last_value, first.size()};
  }

  // Hosts in `element`, saturating at kMaxHostlistHosts + 1 so that nothing overflows.
  static std::uint64_t CountHosts(const Element& element) {
    constexpr std::uint64_t kTooMany = kMaxHostlistHosts + 1;
    std::uint64_t count = 1;
    for (const Bracket& bracket : element.brackets) {
      std::uint64_t in_bracket = 0;
      for (const Range& range : bracket.ranges) {
        in_bracket = std::min(in_bracket + (range.last - range.first + 1), kTooMany);
      }
      count = std::min(count * in_bracket, kTooMany);
    }
    return count;
  }

  static std::string Padded(std::uint64_t value, std::size_t width) {
    std::string digits = std::to_string(value);
    if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
    return digits;
  }

  static void Append(const Element& element, std::vector<std::string>* hosts) {
    std::vector<std::string> names{element.prefix};
    for (const Bracket& bracket : element.brackets) {
      std::vector<std::string> next;
      for (const std::string& name : names) {
        for (const Range& range : bracket.ranges) {
          for (std::uint64_t v = range.first;; ++v) {
            next.push_back(name + Padded(v, range.width) + bracket.suffix);
            if (v == range.last) break;
          }
        }
      }
      names = std::move(next);
    }
    for (std::string& name : names) hosts->push_back(std::move(name));
  }

  std::string_view text_;
};

}  // namespace

Result<std::vector<std::string>> ExpandHostlist(std::string_view expression) {
  return Parser(expression).Expand();
}

}  // namespace prism::slurm
