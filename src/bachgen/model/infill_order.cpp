// The conditioning model's fill order.
#include "bachgen/model/infill_order.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace bachgen::model {

std::vector<std::vector<size_t>> infill_schedule(std::vector<size_t> order, int64_t passes, runtime::SplitMix64& rng) {
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng.next() % i)]);
  const int64_t n = static_cast<int64_t>(order.size());
  std::vector<std::vector<size_t>> chunks;
  if (n == 0) return chunks;
  passes = std::clamp<int64_t>(passes, 1, n);
  size_t next = 0;
  for (int64_t pass = 0; pass < passes; ++pass) {
    const size_t take = static_cast<size_t>((n - static_cast<int64_t>(next) + (passes - pass) - 1) / (passes - pass));
    chunks.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(next), order.begin() + static_cast<std::ptrdiff_t>(next + take));
    next += take;
  }
  return chunks;
}

}  // namespace bachgen::model
