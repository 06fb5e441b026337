#include "bundle_placement.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace prism::runtime {
namespace {

double ToAmount(int64_t units) { return static_cast<double>(units) / kResourceUnit; }

int64_t SizeOf(const ResourceSet& b) {
  int64_t size = 0;
  for (const auto& [name, units] : b.entries()) size += units;
  return size;
}

// What `avail` keeps of the resources `demand` names once `demand` is taken (best fit: less).
int64_t Leftover(const ResourceSet& demand, const ResourceSet& avail) {
  int64_t left = 0;
  for (const auto& [name, units] : demand.entries()) left += avail.Units(name) - units;
  return left;
}

ResourceSet SumOf(const std::vector<ResourceSet>& bundles, const std::vector<size_t>& which) {
  ResourceSet sum;
  for (size_t i : which) sum.Add(bundles[i]);
  return sum;
}

// Kuhn's augmenting path: give bundle `b` a rank of its own among those it fits.
bool Augment(size_t b, const std::vector<std::vector<Rank>>& fits, std::vector<int64_t>& holder,
             std::vector<bool>& visited) {
  for (Rank r : fits[b]) {
    if (visited[r]) continue;
    visited[r] = true;
    if (holder[r] < 0 || Augment(static_cast<size_t>(holder[r]), fits, holder, visited)) {
      holder[r] = static_cast<int64_t>(b);
      return true;
    }
  }
  return false;
}

}  // namespace

const char* PlacementStrategyName(PlacementStrategy s) {
  switch (s) {
    case PlacementStrategy::kPack:
      return "PACK";
    case PlacementStrategy::kSpread:
      return "SPREAD";
    case PlacementStrategy::kStrictPack:
      return "STRICT_PACK";
    case PlacementStrategy::kStrictSpread:
      return "STRICT_SPREAD";
  }
  return "?";
}

std::optional<std::vector<Rank>> PlanBundles(
    PlacementStrategy strategy, const std::vector<ResourceSet>& bundles,
    const std::vector<Rank>& placed, const std::vector<std::optional<ResourceSet>>& available) {
  const int ranks = static_cast<int>(available.size());
  std::vector<Rank> out = placed;
  out.resize(bundles.size(), kNoRank);
  std::vector<size_t> todo;
  std::vector<int> count(ranks, 0);  // bundles of this group per rank
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == kNoRank) {
      todo.push_back(i);
    } else if (out[i] >= 0 && out[i] < ranks) {
      ++count[out[i]];
    }
  }
  if (todo.empty()) return out;
  std::vector<ResourceSet> left(ranks);
  for (int r = 0; r < ranks; ++r) {
    if (available[r]) left[r] = *available[r];
  }
  auto usable = [&](int r) { return available[r].has_value(); };
  // Largest bundles first: they have the fewest places to go.
  std::vector<size_t> order = todo;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return SizeOf(bundles[a]) > SizeOf(bundles[b]); });

  // All of `todo` on one rank: the one holding most of the group, then the best fit.
  auto one_rank = [&](bool must_join_placed) -> Rank {
    ResourceSet sum = SumOf(bundles, todo);
    Rank best = kNoRank;
    for (int r = 0; r < ranks; ++r) {
      if (!usable(r) || !sum.FitsIn(left[r])) continue;
      if (must_join_placed && todo.size() != out.size() && count[r] == 0) continue;
      if (best == kNoRank || count[r] > count[best] ||
          (count[r] == count[best] && Leftover(sum, left[r]) < Leftover(sum, left[best]))) {
        best = r;
      }
    }
    return best;
  };

  // Each bundle of `order` in turn on the rank it fits that holds the most of the group (pack) or
  // the fewest (spread); ties go to the tightest fit (pack) or the loosest (spread).
  auto one_by_one = [&](bool pack) -> std::optional<std::vector<Rank>> {
    for (size_t i : order) {
      Rank best = kNoRank;
      for (int r = 0; r < ranks; ++r) {
        if (!usable(r) || !bundles[i].FitsIn(left[r])) continue;
        if (best == kNoRank) {
          best = r;
        } else if (count[r] != count[best]) {
          if (pack == (count[r] > count[best])) best = r;
        } else {
          auto here = Leftover(bundles[i], left[r]);
          auto there = Leftover(bundles[i], left[best]);
          if (pack ? here < there : here > there) best = r;
        }
      }
      if (best == kNoRank) return std::nullopt;
      out[i] = best;
      left[best].Subtract(bundles[i]);
      ++count[best];
    }
    return out;
  };

  switch (strategy) {
    case PlacementStrategy::kStrictPack: {
      Rank r = one_rank(/*must_join_placed=*/true);
      if (r == kNoRank) return std::nullopt;
      for (size_t i : todo) out[i] = r;
      return out;
    }
    case PlacementStrategy::kPack: {
      if (Rank r = one_rank(false); r != kNoRank) {
        for (size_t i : todo) out[i] = r;
        return out;
      }
      return one_by_one(/*pack=*/true);
    }
    case PlacementStrategy::kSpread: {
      return one_by_one(/*pack=*/false);
    }
    case PlacementStrategy::kStrictSpread: {
      // Ranks already holding a bundle of the group are taken; the rest is a bipartite
      // matching of bundles to ranks they fit (exact, unlike a greedy choice).
      std::vector<std::vector<Rank>> fits(bundles.size());
      for (size_t i : todo) {
        for (int r = 0; r < ranks; ++r) {
          if (usable(r) && count[r] == 0 && bundles[i].FitsIn(left[r])) fits[i].push_back(r);
        }
      }
      std::vector<int64_t> holder(ranks, -1);
      for (size_t i : order) {
        std::vector<bool> visited(ranks, false);
        if (!Augment(i, fits, holder, visited)) return std::nullopt;
      }
      for (int r = 0; r < ranks; ++r) {
        if (holder[r] >= 0) out[static_cast<size_t>(holder[r])] = r;
      }
      return out;
    }
  }
  return std::nullopt;
}

std::optional<std::string> WhyInfeasible(PlacementStrategy strategy,
                                         const std::vector<ResourceSet>& bundles,
                                         const std::vector<std::optional<ResourceSet>>& totals) {
  int live = 0;
  for (const auto& t : totals) live += t.has_value() ? 1 : 0;
  if (live == 0) return std::string("the job has no live rank");
  // Names the resource of `need` that no single live rank has enough of.
  auto short_of = [&](const ResourceSet& need) {
    for (const auto& [name, units] : need.entries()) {
      int64_t most = 0;
      for (const auto& t : totals) {
        if (t) most = std::max(most, t->Units(name));
      }
      if (most < units) {
        return fmt::format("it needs {:g} '{}' and the most any live rank has is {:g}",
                           ToAmount(units), name, ToAmount(most));
      }
    }
    return fmt::format("no live rank has all of {} at once", need.ToString());
  };
  auto fits_somewhere = [&](const ResourceSet& need) {
    for (const auto& t : totals) {
      if (t && need.FitsIn(*t)) return true;
    }
    return false;
  };
  for (size_t i = 0; i < bundles.size(); ++i) {
    if (!fits_somewhere(bundles[i])) {
      return fmt::format("bundle {} {} fits on no rank: {}", i, bundles[i].ToString(),
                         short_of(bundles[i]));
    }
  }
  std::vector<size_t> all(bundles.size());
  std::iota(all.begin(), all.end(), size_t{0});
  switch (strategy) {
    case PlacementStrategy::kStrictPack: {
      ResourceSet sum = SumOf(bundles, all);
      if (!fits_somewhere(sum)) {
        return fmt::format("STRICT_PACK puts all {} bundles on one rank, which needs {}: {}",
                           bundles.size(), sum.ToString(), short_of(sum));
      }
      return std::nullopt;
    }
    case PlacementStrategy::kStrictSpread: {
      if (static_cast<int>(bundles.size()) > live) {
        return fmt::format(
            "STRICT_SPREAD puts each of the {} bundles on a rank of its own, and the job has {} "
            "live ranks",
            bundles.size(), live);
      }
      std::vector<Rank> none(bundles.size(), kNoRank);
      if (!PlanBundles(strategy, bundles, none, totals)) {
        return fmt::format(
            "STRICT_SPREAD puts each of the {} bundles on a rank of its own, and no {} distinct "
            "live ranks are each large enough for one",
            bundles.size(), bundles.size());
      }
      return std::nullopt;
    }
    case PlacementStrategy::kPack:
    case PlacementStrategy::kSpread: {
      ResourceSet sum = SumOf(bundles, all);
      for (const auto& [name, units] : sum.entries()) {
        int64_t have = 0;
        for (const auto& t : totals) {
          if (t) have += t->Units(name);
        }
        if (have < units) {
          return fmt::format("the bundles need {:g} '{}' in all and the live ranks have {:g}",
                             ToAmount(units), name, ToAmount(have));
        }
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace prism::runtime
