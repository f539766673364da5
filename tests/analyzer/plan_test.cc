// The planner: exact numbers on tiny profiles, greedy vs exact knapsack on random ones, the oracle
// bound, tier parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "tierscope/analyzer/plan.h"
#include "tierscope/analyzer/report.h"
#include "tierscope/analyzer/sample_counts.h"
#include "tierscope/analyzer/tier_discovery.h"

namespace tierscope::testing {
namespace {

using analyzer::PlanItem;

PlanItem Item(double value, uint64_t size, size_t bins = 1) {
  PlanItem i;
  i.value = value;
  i.peak = size;
  i.size_by_bin.assign(bins, size);
  i.samples_by_bin.assign(bins, 0);
  i.samples_by_bin[0] = static_cast<uint32_t>(value);
  return i;
}

std::vector<size_t> Sorted(std::vector<size_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Knapsack, ExactBeatsGreedyOnTheClassicTrap) {
  // Capacity 10 B. Densities: A 6/5 = 1.2, B 7/6 = 1.17, C 4/4 = 1. Greedy takes A, cannot fit
  // B (11 B), takes C: value 10. The optimum is B + C = 11 in exactly 10 B.
  std::vector<PlanItem> items = {Item(6, 5), Item(7, 6), Item(4, 4)};
  EXPECT_EQ(Sorted(analyzer::GreedyFill(items, 10)), (std::vector<size_t>{0, 2}));
  EXPECT_EQ(Sorted(analyzer::ExactFill(items, 10)), (std::vector<size_t>{1, 2}));
}

TEST(Knapsack, SitesNeverAliveTogetherShareCapacity) {
  // Two 8-byte sites alive in different bins both fit in 10 bytes.
  PlanItem a = Item(5, 8, 2), b = Item(5, 8, 2);
  a.size_by_bin = {8, 0};
  b.size_by_bin = {0, 8};
  b.samples_by_bin = {0, 5};
  std::vector<PlanItem> items = {a, b};
  EXPECT_EQ(Sorted(analyzer::ExactFill(items, 10)), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(Sorted(analyzer::GreedyFill(items, 10)), (std::vector<size_t>{0, 1}));
  b.size_by_bin = {8, 8};  // now they overlap: only one fits
  items = {a, b};
  EXPECT_EQ(analyzer::ExactFill(items, 10).size(), 1u);
}

// Greedy by density plus the best single site is at least half the optimum (one time bin); the
// oracle is at least any feasible plan; every plan fits.
TEST(Knapsack, GreedyWithinHalfOfExactAndOracleBoundsBoth) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    const size_t n = 1 + rng() % 12;
    const size_t bins = round % 2 ? 1 : 4;
    std::vector<PlanItem> items;
    for (size_t i = 0; i < n; ++i) {
      PlanItem item = Item(1 + rng() % 100, 1 + rng() % 64, bins);
      uint32_t left = static_cast<uint32_t>(item.value);
      for (size_t b = 0; b < bins; ++b) {
        item.size_by_bin[b] = rng() % 3 ? item.peak : 0;
        item.samples_by_bin[b] = item.size_by_bin[b] ? rng() % (left + 1) : 0;
        left -= item.samples_by_bin[b];
      }
      item.samples_by_bin[0] += left;
      if (left) item.size_by_bin[0] = item.peak;
      items.push_back(item);
    }
    const uint64_t capacity = rng() % 128;
    const auto greedy = analyzer::GreedyFill(items, capacity);
    const auto exact = analyzer::ExactFill(items, capacity);
    ASSERT_TRUE(analyzer::Fits(items, greedy, capacity));
    ASSERT_TRUE(analyzer::Fits(items, exact, capacity));
    const double g = analyzer::ValueOf(items, greedy), e = analyzer::ValueOf(items, exact);
    EXPECT_GE(e, g);
    if (bins == 1) {
      EXPECT_GE(2 * g, e) << "round " << round;
    }
    EXPECT_GE(analyzer::OracleValue(items, capacity) + 1e-9, e) << "round " << round;
  }
}

profile::ProfileChunk TwoSiteProfile() {
  profile::ProfileChunk p;
  p.mutable_metadata()->set_bin_ns(100);
  p.mutable_metadata()->set_accesses_per_sample(1);
  auto add = [&](uint64_t id, uint64_t peak, uint32_t samples, uint64_t first, uint64_t offset) {
    auto* s = p.add_sites();
    s->set_id(id);
    s->set_peak_live_bytes(peak);
    s->set_allocations(1);
    s->set_bytes(peak);
    s->set_load_samples(samples);
    s->set_first_alloc_ns(first);
    s->add_histogram(samples);
    s->add_live_histogram(peak);
    auto* loc = s->add_stack();
    loc->set_module("/bin/prog");
    loc->set_offset(offset);
    loc = s->add_stack();
    loc->set_module("/bin/prog");
    loc->set_offset(0x99);
  };
  add(1, 1000, 10, 0, 0x10);  // cold, allocated first
  add(2, 1000, 90, 5, 0x20);  // hot
  return p;
}

TEST(Plan, HotSiteGoesFastAndBaselinesAreScored) {
  auto p = TwoSiteProfile();
  analyzer::PlanOptions o;
  o.tiers = {{"fast", 1000, 100}, {"slow", 0, 300}};
  analyzer::MakePlan(o, &p);
  ASSERT_EQ(p.plan().assignments_size(), 2);
  EXPECT_EQ(p.plan().assignments(0).tier(), "slow");
  EXPECT_EQ(p.plan().assignments(1).tier(), "fast");
  EXPECT_DOUBLE_EQ(p.plan().fast_share(), 0.9);
  // 90 samples served 200 ns faster.
  EXPECT_DOUBLE_EQ(p.plan().stall_saved_ns(), 90 * 200.0);
  EXPECT_EQ(p.plan().site_depth(), 1u);  // innermost offsets already tell them apart
  EXPECT_EQ(p.plan().method(), "knapsack");
  ASSERT_EQ(p.plan().baselines_size(), 3);
  EXPECT_EQ(p.plan().baselines(0).name(), "first-touch");
  EXPECT_DOUBLE_EQ(p.plan().baselines(0).fast_share(), 0.1);  // the cold site came first
  EXPECT_EQ(p.plan().baselines(2).name(), "oracle");
  EXPECT_DOUBLE_EQ(p.plan().baselines(2).fast_share(), 0.9);
  ASSERT_EQ(p.tiers_size(), 2);
}

// All but cold calls a site cold by the upper bound of its samples: never sampled and small is
// unknown (it stays fast, it costs the tier little), never sampled and large is cold.
TEST(Plan, AllButColdNeedsEvidenceToCallASiteCold) {
  profile::ProfileChunk p = TwoSiteProfile();  // site 1: 1000 B, 10 samples; site 2: 90
  auto add = [&](uint64_t id, uint64_t peak, uint64_t offset) {
    auto* s = p.add_sites();
    s->set_id(id);
    s->set_allocations(1);
    s->set_peak_live_bytes(peak);
    s->set_bytes(peak);
    s->add_histogram(0);
    s->add_live_histogram(peak);
    auto* loc = s->add_stack();
    loc->set_module("/bin/prog");
    loc->set_offset(offset);
  };
  add(3, 16, 0x30);      // never sampled, 16 B
  add(4, 100000, 0x40);  // never sampled, 100 kB
  analyzer::PlanOptions o;
  o.tiers = {{"fast", 1000, 100}, {"slow", 0, 300}};
  o.method = analyzer::PlanOptions::Method::kAllButCold;
  o.cold_share = 0.125;
  analyzer::MakePlan(o, &p);
  std::map<uint64_t, std::string> tier;
  for (const auto& a : p.plan().assignments()) tier[a.site_id()] = a.tier();
  EXPECT_EQ(tier[2], "fast");
  EXPECT_EQ(tier[3], "fast");  // 3 samples at most over 16 B: maybe the hottest of all
  EXPECT_EQ(tier[4], "slow");  // 3 samples at most over 100 kB: cold
}

TEST(SampleCounts, PoissonBoundsBracketTheCount) {
  EXPECT_EQ(analyzer::PoissonLow(0), 0.0);
  EXPECT_NEAR(analyzer::PoissonHigh(0), 3.0, 0.1);  // the rule of three
  for (double k : {1.0, 2.0, 5.0, 20.0, 100.0, 10000.0}) {
    EXPECT_LT(analyzer::PoissonLow(k), k);
    EXPECT_GT(analyzer::PoissonHigh(k), k);
    EXPECT_LT(analyzer::PoissonHigh(k) - analyzer::PoissonLow(k), 4 * std::sqrt(k) + 4);
  }
  // Exact one-sided 95% bounds for k = 10: 5.43 and 16.96.
  EXPECT_NEAR(analyzer::PoissonLow(10), 5.43, 0.1);
  EXPECT_NEAR(analyzer::PoissonHigh(10), 16.96, 0.1);
}

TEST(Plan, SiteDepthGrowsUntilKeysAreUnambiguous) {
  auto p = TwoSiteProfile();
  // Same innermost frame, different callers: depth 1 cannot tell them apart.
  p.mutable_sites(1)->mutable_stack(0)->set_offset(0x10);
  p.mutable_sites(1)->mutable_stack(1)->set_offset(0x77);
  analyzer::PlanOptions o;
  o.tiers = {{"fast", 1000, 100}, {"slow", 0, 300}};
  analyzer::MakePlan(o, &p);
  EXPECT_EQ(p.plan().site_depth(), 2u);
}

// TwoSiteProfile's first site moved behind the second one's innermost frame (another caller),
// with `peak` live bytes.
void BehindTheHotSitesFrame(profile::ProfileChunk* p, uint64_t peak) {
  p->mutable_sites(0)->mutable_stack(0)->set_offset(0x20);
  p->mutable_sites(0)->mutable_stack(1)->set_offset(0x77);
  p->mutable_sites(0)->set_peak_live_bytes(peak);
  p->mutable_sites(0)->set_live_histogram(0, peak);
}

// A shallower key merges sites: taken when the sites that follow their key's leader lose at most
// --depth-loss of the samples (and move little onto a limited tier); their assignments then say
// where the placer will put them, and the plan's score is that of what it enforces.
TEST(Plan, AShallowerDepthIsTakenWhenTheSitesItMergesCostLittle) {
  analyzer::PlanOptions o;
  o.tiers = {{"fast", 1000, 100}, {"slow", 0, 300}};
  // A cold site (no samples, 5 bytes) behind the hot site's innermost frame: it follows the hot
  // one onto the fast tier at depth 1 (5 bytes over 1000: within 1%).
  auto p = TwoSiteProfile();
  BehindTheHotSitesFrame(&p, 5);
  p.mutable_sites(0)->set_load_samples(0);
  p.mutable_sites(0)->set_histogram(0, 0);
  analyzer::MakePlan(o, &p);
  EXPECT_EQ(p.plan().site_depth(), 1u);
  EXPECT_EQ(p.plan().assignments(0).tier(), "fast");
  EXPECT_EQ(p.plan().assignments(1).tier(), "fast");
  EXPECT_DOUBLE_EQ(p.plan().fast_share(), 1.0);
  // --depth-loss 0: only a depth that keeps every site's own decision.
  o.depth_loss_share = 0;
  analyzer::MakePlan(o, &p);
  EXPECT_EQ(p.plan().site_depth(), 2u);
  EXPECT_EQ(p.plan().assignments(0).tier(), "slow");

  // A warm site on the fast tier behind a hotter one too large for it: merged, it would follow
  // the hot one to the slow tier and lose its 10% of the samples.
  o.tiers = {{"fast", 2000, 100}, {"slow", 0, 300}};
  o.min_quota_bytes = 0;
  p = TwoSiteProfile();
  BehindTheHotSitesFrame(&p, 100);
  p.mutable_sites(1)->set_peak_live_bytes(5000);
  p.mutable_sites(1)->set_live_histogram(0, 5000);
  o.depth_loss_share = 0.001;
  analyzer::MakePlan(o, &p);
  EXPECT_EQ(p.plan().site_depth(), 2u);
  EXPECT_EQ(p.plan().assignments(0).tier(), "fast");
  EXPECT_DOUBLE_EQ(p.plan().fast_share(), 0.1);
  o.depth_loss_share = 0.2;  // a user who would rather walk one frame
  analyzer::MakePlan(o, &p);
  EXPECT_EQ(p.plan().site_depth(), 1u);
  EXPECT_EQ(p.plan().assignments(0).tier(), "slow");
  EXPECT_DOUBLE_EQ(p.plan().fast_share(), 0.0);
}

TEST(Plan, BadTiersAreRefused) {
  auto p = TwoSiteProfile();
  analyzer::PlanOptions o;
  EXPECT_THROW(analyzer::MakePlan(o, &p), std::invalid_argument);
  o.tiers = {{"fast", 0, 100}, {"slow", 0, 300}};
  EXPECT_THROW(analyzer::MakePlan(o, &p), std::invalid_argument);
}

TEST(Tiers, SizesAndLatenciesParse) {
  EXPECT_EQ(analyzer::ParseTier("fast=8G").capacity_bytes, 8ull << 30);
  EXPECT_EQ(analyzer::ParseTier("fast=512M").capacity_bytes, 512ull << 20);
  EXPECT_EQ(analyzer::ParseTier("fast=1.5K").capacity_bytes, 1536u);
  EXPECT_EQ(analyzer::ParseTier("slow=rest").capacity_bytes, 0u);
  EXPECT_THROW(analyzer::ParseTier("fast"), std::invalid_argument);
  EXPECT_THROW(analyzer::ParseTier("fast=lots"), std::invalid_argument);
  EXPECT_THROW(analyzer::ParseTier("fast=8Q"), std::invalid_argument);
  std::vector<analyzer::TierSpec> tiers = {{"fast", 1, 0}, {"slow", 0, 0}};
  analyzer::ParseLatencies("fast=100ns,slow=300", &tiers);
  EXPECT_EQ(tiers[0].latency_ns, 100);
  EXPECT_EQ(tiers[1].latency_ns, 300);
  EXPECT_THROW(analyzer::ParseLatencies("medium=1ns", &tiers), std::invalid_argument);
}

TEST(Tiers, TopologyGivesAtLeastOneTierWithANote) {
  std::string note;
  auto tiers = analyzer::TiersFromTopology(&note);
  ASSERT_GE(tiers.size(), 1u);
  EXPECT_EQ(tiers.back().capacity_bytes, 0u);  // the last tier takes the rest
  EXPECT_FALSE(note.empty());
}

TEST(Report, FewSampleSitesDoNotTopTheRanking) {
  profile::ProfileChunk p;
  auto add = [&](uint64_t id, uint64_t samples, double temperature) {
    auto* s = p.add_sites();
    s->set_id(id);
    s->set_load_samples(samples);
    s->set_temperature(temperature);
  };
  add(1, 1, 1000.0);   // one sample on a tiny block: hottest by the point estimate
  add(2, 400, 100.0);  // many samples, ten times cooler
  add(3, 0, 0.0);
  EXPECT_EQ(analyzer::TemperatureLow(p.sites(2)), 0.0);
  // The lower bound is below the estimate, and far below it with one sample.
  EXPECT_LT(analyzer::TemperatureLow(p.sites(1)), 100.0);
  EXPECT_GT(analyzer::TemperatureLow(p.sites(1)), 85.0);
  EXPECT_LT(analyzer::TemperatureLow(p.sites(0)), 1000.0 * 0.1);
  const auto rows = analyzer::TopSites(p, 0);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].site->id(), 2u);
  EXPECT_EQ(rows[1].site->id(), 1u);
}

}  // namespace
}  // namespace tierscope::testing
