// Baselines that ignore temperature (first touch, memtier's size threshold): sites in allocation
// order fill the fast tier while they fit. A running occupancy keeps this O(n log n + n·bins); it
// used to re-check every bin of every site taken so far per candidate, which was quadratic.
#include <algorithm>
#include <numeric>

#include "plan/occupancy.h"
#include "tierscope/analyzer/plan.h"

namespace tierscope::analyzer {

std::vector<size_t> AllocationOrderFill(const std::vector<PlanItem>& items, uint64_t capacity,
                                        uint64_t max_mean_size) {
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return items[a].first_alloc_ns < items[b].first_alloc_ns;
  });
  Occupancy used(BinsOf(items), capacity);
  std::vector<size_t> chosen;
  for (size_t i : order) {
    if (items[i].mean_size > double(max_mean_size)) continue;
    if (!used.Fits(items[i])) continue;
    used.Add(items[i]);
    chosen.push_back(i);
  }
  return chosen;
}

}  // namespace tierscope::analyzer
