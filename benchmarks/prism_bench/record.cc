#include "record.h"

#include <utility>

namespace prism::bench {

Record MakeRecord(std::string name, const Summary& summary, std::string unit) {
  Record r;
  r.name = std::move(name);
  r.value = summary.median;
  r.unit = std::move(unit);
  r.p10 = summary.p10;
  r.p90 = summary.p90;
  r.repetitions = summary.count;
  return r;
}

}  // namespace prism::bench
