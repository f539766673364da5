// The planner's fast fills (running per-bin occupancy, explicit-stack branch and bound with a node
// budget) against the straightforward versions they replaced, on random multi-bin instances: the
// chosen sets must be identical, not merely as good.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "tierscope/analyzer/plan.h"

namespace tierscope::testing {
namespace {

using analyzer::PlanItem;

double Density(const PlanItem& item) {
  return item.value / double(std::max<uint64_t>(1, item.peak));
}

// Straightforward references: every candidate is checked by re-adding all bins of everything
// chosen so far (analyzer::Fits), as the planner did before.
std::vector<size_t> ReferenceGreedy(const std::vector<PlanItem>& items, uint64_t capacity) {
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Density(items[a]) > Density(items[b]); });
  std::vector<size_t> chosen;
  size_t best_single = SIZE_MAX;
  for (size_t i : order) {
    if (items[i].value <= 0) continue;
    if (analyzer::Fits(items, {i}, capacity) &&
        (best_single == SIZE_MAX || items[i].value > items[best_single].value)) {
      best_single = i;
    }
    chosen.push_back(i);
    if (!analyzer::Fits(items, chosen, capacity)) chosen.pop_back();
  }
  if (best_single != SIZE_MAX && items[best_single].value > analyzer::ValueOf(items, chosen)) {
    return {best_single};
  }
  return chosen;
}

std::vector<size_t> ReferenceAllocationOrder(const std::vector<PlanItem>& items, uint64_t capacity,
                                             uint64_t max_mean_size) {
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return items[a].first_alloc_ns < items[b].first_alloc_ns;
  });
  std::vector<size_t> chosen;
  for (size_t i : order) {
    if (items[i].mean_size > double(max_mean_size)) continue;
    chosen.push_back(i);
    if (!analyzer::Fits(items, chosen, capacity)) chosen.pop_back();
  }
  return chosen;
}

// The recursive branch and bound without a node budget.
std::vector<size_t> ReferenceExact(const std::vector<PlanItem>& items, uint64_t capacity) {
  std::vector<size_t> order;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].value > 0) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return Density(items[a]) > Density(items[b]); });
  std::vector<double> suffix(order.size() + 1, 0);
  for (size_t k = order.size(); k-- > 0;) suffix[k] = suffix[k + 1] + items[order[k]].value;
  std::vector<size_t> current, best = ReferenceGreedy(items, capacity);
  double best_value = analyzer::ValueOf(items, best), value = 0;
  auto search = [&](auto&& self, size_t k) -> void {
    if (value > best_value) {
      best_value = value;
      best = current;
    }
    if (k == order.size() || value + suffix[k] <= best_value) return;
    current.push_back(order[k]);
    if (analyzer::Fits(items, current, capacity)) {
      value += items[order[k]].value;
      self(self, k + 1);
      value -= items[order[k]].value;
    }
    current.pop_back();
    self(self, k + 1);
  };
  search(search, 0);
  return best;
}

// Random sites over `bins` time bins: some never alive in a bin, values with many density ties
// (small integers) and some zero, first allocations with ties, sizes that straddle the capacity.
std::vector<PlanItem> RandomItems(std::mt19937_64& rng, size_t n, size_t bins) {
  std::vector<PlanItem> items(n);
  for (size_t i = 0; i < n; ++i) {
    PlanItem& item = items[i];
    item.index = i;
    item.value = double(rng() % 8);
    item.peak = 1 + rng() % 64;
    item.size_by_bin.assign(bins, 0);
    item.samples_by_bin.assign(bins, 0);
    for (size_t b = 0; b < bins; ++b) {
      if (rng() % 3) item.size_by_bin[b] = rng() % 2 ? item.peak : rng() % (item.peak + 1);
    }
    item.samples_by_bin[rng() % bins] = static_cast<uint32_t>(item.value);
    item.first_alloc_ns = rng() % (n + 1);
    item.mean_size = double(rng() % 8192);
  }
  return items;
}

TEST(PlanFill, GreedyAndBaselinesMatchTheStraightforwardFillsOnRandomInstances) {
  std::mt19937_64 rng(20261201);
  for (int round = 0; round < 300; ++round) {
    const size_t bins = std::vector<size_t>{1, 2, 7, 64}[round % 4];
    const size_t n = 1 + rng() % 300;
    const auto items = RandomItems(rng, n, bins);
    const uint64_t capacity = rng() % (8 * n + 64);
    const auto greedy = analyzer::GreedyFill(items, capacity);
    ASSERT_EQ(greedy, ReferenceGreedy(items, capacity)) << "round " << round;
    ASSERT_TRUE(analyzer::Fits(items, greedy, capacity));
    for (uint64_t threshold : {uint64_t(4096), UINT64_MAX}) {
      const auto fast = analyzer::AllocationOrderFill(items, capacity, threshold);
      ASSERT_EQ(fast, ReferenceAllocationOrder(items, capacity, threshold)) << "round " << round;
      ASSERT_TRUE(analyzer::Fits(items, fast, capacity));
    }
  }
}

TEST(PlanFill, ExactSearchMatchesTheRecursiveSearchWhenItCompletes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    const size_t bins = round % 2 ? 1 : 5;
    const auto items = RandomItems(rng, 1 + rng() % 14, bins);
    const uint64_t capacity = rng() % 160;
    const auto r = analyzer::ExactSearch(items, capacity, analyzer::kExactMaxNodes);
    ASSERT_TRUE(r.complete);
    EXPECT_GT(r.nodes, 0u);
    ASSERT_EQ(r.chosen, ReferenceExact(items, capacity)) << "round " << round;
  }
}

TEST(PlanFill, ExactSearchStopsAtTheNodeBudgetWithAFeasiblePlanNoWorseThanGreedy) {
  std::mt19937_64 rng(99);
  const auto items = RandomItems(rng, 400, 3);
  const uint64_t capacity = 900;
  const auto r = analyzer::ExactSearch(items, capacity, 5000);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.nodes, 5000u);
  EXPECT_TRUE(analyzer::Fits(items, r.chosen, capacity));
  EXPECT_GE(analyzer::ValueOf(items, r.chosen),
            analyzer::ValueOf(items, analyzer::GreedyFill(items, capacity)));
}

// Everything fits: the search goes one level per candidate. A recursive search this deep would
// overflow the thread's stack.
TEST(PlanFill, ExactSearchHandlesHundredsOfThousandsOfCandidates) {
  std::vector<PlanItem> items(300000);
  for (size_t i = 0; i < items.size(); ++i) {
    items[i].value = 1 + double(i % 5);
    items[i].peak = 1;
    items[i].size_by_bin = {1};
    items[i].samples_by_bin = {1};
  }
  const auto r = analyzer::ExactSearch(items, items.size(), UINT64_MAX);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.chosen.size(), items.size());
}

profile::ProfileChunk ManySites(int n) {
  profile::ProfileChunk p;
  p.mutable_metadata()->set_bin_ns(100);
  for (int i = 0; i < n; ++i) {
    auto* s = p.add_sites();
    s->set_id(i + 1);
    s->set_peak_live_bytes(100 + (i * 37) % 900);
    s->set_allocations(1);
    s->set_bytes(s->peak_live_bytes());
    s->set_load_samples(1 + (i * 53) % 97);
    auto* loc = s->add_stack();
    loc->set_module("/bin/prog");
    loc->set_offset(0x10 * (i + 1));
  }
  return p;
}

TEST(PlanFill, MethodSaysWhenTheExactSearchRanOutOfNodes) {
  analyzer::PlanOptions o;
  o.tiers = {{"fast", 20000, 100}, {"slow", 0, 300}};
  o.method = analyzer::PlanOptions::Method::kExact;
  o.exact_max_nodes = 1000;
  auto p = ManySites(200);
  analyzer::MakePlan(o, &p);
  EXPECT_EQ(p.plan().method(),
            "knapsack (stopped after 1000 nodes on fast: best found, not proven optimal)");
  auto q = ManySites(10);
  analyzer::MakePlan(o, &q);
  EXPECT_EQ(q.plan().method(), "knapsack");
}

}  // namespace
}  // namespace tierscope::testing
