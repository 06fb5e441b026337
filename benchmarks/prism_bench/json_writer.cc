#include "json_writer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace prism::bench {

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

void WriteJson(std::ostream& out, const std::vector<Record>& records) {
  out << "[";
  for (size_t i = 0; i < records.size(); ++i) {
    const Record& r = records[i];
    out << (i == 0 ? "\n" : ",\n") << "  {\"name\": " << JsonQuote(r.name)
        << ", \"value\": " << JsonNumber(r.value) << ", \"unit\": " << JsonQuote(r.unit);
    if (r.p10) out << ", \"p10\": " << JsonNumber(*r.p10);
    if (r.p90) out << ", \"p90\": " << JsonNumber(*r.p90);
    if (r.repetitions != 0) out << ", \"repetitions\": " << r.repetitions;
    if (r.baseline_name) out << ", \"baseline_name\": " << JsonQuote(*r.baseline_name);
    if (r.baseline_value) out << ", \"baseline_value\": " << JsonNumber(*r.baseline_value);
    if (r.ranks) out << ", \"ranks\": " << *r.ranks;
    if (!r.note.empty()) out << ", \"note\": " << JsonQuote(r.note);
    out << "}";
  }
  out << "\n]\n";
}

bool WriteJsonFile(const std::string& path, const std::vector<Record>& records,
                   std::string* error) {
  std::ofstream file(path);
  if (!file) {
    if (error != nullptr) *error = "cannot open " + path + ": " + std::strerror(errno);
    return false;
  }
  WriteJson(file, records);
  file.close();
  if (!file) {
    if (error != nullptr) *error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace prism::bench
