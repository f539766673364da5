// Filling one tier: greedy by density, an exact branch and bound, and the oracle bound. Sizes are
// per time bin, so sites that are never alive together share capacity.
#include <algorithm>
#include <numeric>

#include "plan/occupancy.h"
#include "tierscope/analyzer/plan.h"

namespace tierscope::analyzer {
namespace {

// Indices of the items worth placing (value > 0 when `positive_only`), densest first; ties keep
// index order so that plans do not depend on the sort's implementation.
std::vector<size_t> DensityOrder(const std::vector<PlanItem>& items, bool positive_only) {
  std::vector<double> density(items.size());
  std::vector<size_t> order;
  order.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    density[i] = items[i].value / double(std::max<uint64_t>(1, items[i].peak));
    if (!positive_only || items[i].value > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return density[a] > density[b]; });
  return order;
}

}  // namespace

bool Fits(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen,
          uint64_t capacity) {
  Occupancy used(BinsOf(items), capacity);
  for (size_t i : chosen) {
    if (!used.Fits(items[i])) return false;
    used.Add(items[i]);
  }
  return true;
}

double ValueOf(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen) {
  double v = 0;
  for (size_t i : chosen) v += items[i].value;
  return v;
}

// Density order, skipping what does not fit; then the best single site if that is worth more.
// With one time bin this is the classic 1/2-approximation of 0/1 knapsack. O(n log n + n·bins).
std::vector<size_t> GreedyFill(const std::vector<PlanItem>& items, uint64_t capacity) {
  Occupancy used(BinsOf(items), capacity);
  std::vector<size_t> chosen;
  size_t best_single = SIZE_MAX;
  double chosen_value = 0;
  for (size_t i : DensityOrder(items, true)) {
    if (used.FitsAlone(items[i]) &&
        (best_single == SIZE_MAX || items[i].value > items[best_single].value)) {
      best_single = i;
    }
    if (!used.Fits(items[i])) continue;
    used.Add(items[i]);
    chosen.push_back(i);
    chosen_value += items[i].value;
  }
  if (best_single != SIZE_MAX && items[best_single].value > chosen_value) return {best_single};
  return chosen;
}

// Depth-first over sites in density order, taking a site before leaving it out; prunes when even
// taking every remaining site could not beat the best found. Exponential, so it stops after
// `max_nodes` visited nodes (a count, not a clock, so that plans are reproducible) and keeps the
// best found, which starts as the greedy fill. The stack is explicit: the depth is the number of
// candidates, which can be far beyond what the thread's stack holds.
ExactResult ExactSearch(const std::vector<PlanItem>& items, uint64_t capacity, uint64_t max_nodes) {
  const std::vector<size_t> order = DensityOrder(items, true);
  std::vector<double> suffix(order.size() + 1, 0);
  for (size_t k = order.size(); k-- > 0;) suffix[k] = suffix[k + 1] + items[order[k]].value;

  ExactResult result;
  result.chosen = GreedyFill(items, capacity);
  double best_value = ValueOf(items, result.chosen), value = 0;
  Occupancy used(BinsOf(items), capacity);
  std::vector<size_t> current;
  enum Phase : uint8_t { kEnter, kTook, kDone };
  struct Frame {
    size_t k;
    Phase phase;
    bool took;
  };
  std::vector<Frame> stack{{0, kEnter, false}};
  while (!stack.empty()) {
    Frame& f = stack.back();
    const size_t k = f.k;
    if (f.phase == kEnter) {
      if (result.nodes == max_nodes) {
        result.complete = false;
        break;
      }
      ++result.nodes;
      if (value > best_value) {
        best_value = value;
        result.chosen = current;
      }
      if (k == order.size() || value + suffix[k] <= best_value) {
        stack.pop_back();
        continue;
      }
      f.phase = kTook;
      const PlanItem& item = items[order[k]];
      f.took = used.Fits(item);
      if (f.took) {
        used.Add(item);
        current.push_back(order[k]);
        value += item.value;
        stack.push_back({k + 1, kEnter, false});  // invalidates f
        continue;
      }
    }
    if (f.phase == kTook) {
      if (f.took) {
        const PlanItem& item = items[order[k]];
        value -= item.value;
        current.pop_back();
        used.Remove(item);
      }
      f.phase = kDone;
      stack.push_back({k + 1, kEnter, false});  // invalidates f
      continue;
    }
    stack.pop_back();
  }
  return result;
}

std::vector<size_t> ExactFill(const std::vector<PlanItem>& items, uint64_t capacity,
                              uint64_t max_nodes) {
  return ExactSearch(items, capacity, max_nodes).chosen;
}

double OracleValue(const std::vector<PlanItem>& items, uint64_t capacity) {
  double total = 0;
  std::vector<const PlanItem*> in_bin;
  for (size_t b = 0; b < BinsOf(items); ++b) {
    in_bin.clear();
    for (const auto& item : items) {
      if (item.samples_by_bin[b] > 0) in_bin.push_back(&item);
    }
    auto density = [b](const PlanItem* i) {
      return i->size_by_bin[b] == 0 ? 1e300
                                    : double(i->samples_by_bin[b]) / double(i->size_by_bin[b]);
    };
    std::sort(in_bin.begin(), in_bin.end(),
              [&](const PlanItem* x, const PlanItem* y) { return density(x) > density(y); });
    double room = double(capacity);
    for (const PlanItem* item : in_bin) {
      const double size = double(item->size_by_bin[b]);
      const double take = size <= room ? 1.0 : room / size;
      total += take * double(item->samples_by_bin[b]);
      room -= take * size;
      if (room <= 0) break;
    }
  }
  return total;
}

}  // namespace tierscope::analyzer
