#pragma once
// How the algorithms split a buffer among the members of a group: `count` elements into `w`
// segments whose sizes differ by at most one, member i's first.
//
// Thread contract: a value type.

#include <algorithm>
#include <cstddef>

namespace prism::collective {

struct Segments {
  size_t count;
  int w;
  /// The first element of segment i (i == w: count).
  size_t start(int i) const {
    size_t base = count / static_cast<size_t>(w);
    size_t extra = count % static_cast<size_t>(w);
    auto u = static_cast<size_t>(i);
    return u * base + std::min(u, extra);
  }
  /// The elements in segment i.
  size_t len(int i) const { return start(i + 1) - start(i); }
};

}  // namespace prism::collective
