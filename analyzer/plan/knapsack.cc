// Filling one tier: greedy by density, an exact branch and bound, and the oracle bound. Sizes are
// per time bin, so sites that are never alive together share capacity.
#include <algorithm>
#include <numeric>

#include "tierscope/analyzer/plan.h"

namespace tierscope::analyzer {
namespace {

bool FitsWith(const PlanItem& item, std::vector<uint64_t>& used, uint64_t capacity) {
  for (size_t b = 0; b < used.size(); ++b) {
    if (used[b] + item.size_by_bin[b] > capacity) return false;
  }
  return true;
}

void Add(const PlanItem& item, std::vector<uint64_t>& used, int sign) {
  for (size_t b = 0; b < used.size(); ++b) {
    used[b] += sign > 0 ? item.size_by_bin[b] : -item.size_by_bin[b];
  }
}

size_t Bins(const std::vector<PlanItem>& items) {
  return items.empty() ? 0 : items[0].size_by_bin.size();
}

double Density(const PlanItem& item) {
  return item.value / double(std::max<uint64_t>(1, item.peak));
}

}  // namespace

bool Fits(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen,
          uint64_t capacity) {
  std::vector<uint64_t> used(Bins(items));
  for (size_t i : chosen) {
    if (!FitsWith(items[i], used, capacity)) return false;
    Add(items[i], used, 1);
  }
  return true;
}

double ValueOf(const std::vector<PlanItem>& items, const std::vector<size_t>& chosen) {
  double v = 0;
  for (size_t i : chosen) v += items[i].value;
  return v;
}

// Density order, skipping what does not fit; then the best single site if that is worth more.
// With one time bin this is the classic 1/2-approximation of 0/1 knapsack.
std::vector<size_t> GreedyFill(const std::vector<PlanItem>& items, uint64_t capacity) {
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Density(items[a]) > Density(items[b]); });
  std::vector<uint64_t> used(Bins(items));
  std::vector<size_t> chosen;
  size_t best_single = SIZE_MAX;
  std::vector<uint64_t> empty(Bins(items));
  for (size_t i : order) {
    if (items[i].value <= 0) continue;
    if (FitsWith(items[i], empty, capacity) &&
        (best_single == SIZE_MAX || items[i].value > items[best_single].value)) {
      best_single = i;
    }
    if (!FitsWith(items[i], used, capacity)) continue;
    Add(items[i], used, 1);
    chosen.push_back(i);
  }
  if (best_single != SIZE_MAX && items[best_single].value > ValueOf(items, chosen)) {
    return {best_single};
  }
  return chosen;
}

// Depth-first over sites in density order; prunes when even taking every remaining site could
// not beat the best found. Exponential: only for small inputs.
std::vector<size_t> ExactFill(const std::vector<PlanItem>& items, uint64_t capacity) {
  std::vector<size_t> order;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].value > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Density(items[a]) > Density(items[b]); });
  std::vector<double> suffix(order.size() + 1, 0);
  for (size_t k = order.size(); k-- > 0;) suffix[k] = suffix[k + 1] + items[order[k]].value;

  std::vector<uint64_t> used(Bins(items));
  std::vector<size_t> current, best = GreedyFill(items, capacity);
  double best_value = ValueOf(items, best), value = 0;
  auto search = [&](auto&& self, size_t k) -> void {
    if (value > best_value) {
      best_value = value;
      best = current;
    }
    if (k == order.size() || value + suffix[k] <= best_value) return;
    const PlanItem& item = items[order[k]];
    if (FitsWith(item, used, capacity)) {
      Add(item, used, 1);
      current.push_back(order[k]);
      value += item.value;
      self(self, k + 1);
      value -= item.value;
      current.pop_back();
      Add(item, used, -1);
    }
    self(self, k + 1);
  };
  search(search, 0);
  return best;
}

double OracleValue(const std::vector<PlanItem>& items, uint64_t capacity) {
  double total = 0;
  for (size_t b = 0; b < Bins(items); ++b) {
    std::vector<const PlanItem*> in_bin;
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
