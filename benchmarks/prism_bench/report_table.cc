#include "report_table.h"

#include <cstdio>
#include <string>

namespace prism::bench {
namespace {

std::string Format(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string Row(const std::string& name, const std::string& median, const std::string& unit,
                const std::string& p10, const std::string& p90, const std::string& baseline_name,
                const std::string& baseline, const std::string& ratio) {
  char line[256];
  std::snprintf(line, sizeof line, "%-44s %10s %-8s %10s %10s  %-26s %10s %7s\n", name.c_str(),
                median.c_str(), unit.c_str(), p10.c_str(), p90.c_str(), baseline_name.c_str(),
                baseline.c_str(), ratio.c_str());
  return line;
}

}  // namespace

void PrintTable(std::ostream& out, const ResultSet& results) {
  out << Row("measure", "median", "unit", "p10", "p90", "baseline", "baseline", "ratio");
  out << std::string(134, '-') << "\n";
  for (const Record& r : results.records()) {
    std::string baseline = r.baseline_value ? Format(*r.baseline_value) : "";
    std::string ratio;
    if (r.baseline_value && *r.baseline_value != 0) ratio = Format(r.value / *r.baseline_value);
    out << Row(r.name, Format(r.value), r.unit, r.p10 ? Format(*r.p10) : "",
               r.p90 ? Format(*r.p90) : "", r.baseline_name.value_or(""), baseline, ratio);
  }
  for (const Record& r : results.records()) {
    if (!r.note.empty()) out << "note: " << r.name << ": " << r.note << "\n";
  }
  for (const std::string& note : results.notes()) out << "note: " << note << "\n";
}

}  // namespace prism::bench
