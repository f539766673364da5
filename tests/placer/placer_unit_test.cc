// Unit tests of the placer's parts: tier specs, plan checks, the key table and site cache, the
// module table, and the tier arenas' extent hooks with the kernel's view of their memory policy.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <numaif.h>
#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "mapped_ranges.h"
#include "module_table.h"
#include "site_cache.h"
#include "site_hash.h"
#include "tier_arenas.h"
#include "tierscope/common/call_frame_rules.h"
#include "tierscope/common/call_frame_walk.h"
#include "tierscope/placer/memory_tiers.h"
#include "tierscope/placer/run_config.h"
#include "tierscope/placer/stats_summary.h"
#include "tierscope/placer/tier_spec.h"

namespace tierscope::placer {
using common::kFramePointerStep;
using common::RecentStepRules;
using common::StepRule;
using common::StepRuleAt;
using common::StepRuleCache;
using common::WalkCallFrames;
using common::WalkStart;
namespace testing {  // call_frame_helpers.cc
uintptr_t CallWithFramePointer();
uintptr_t CallWithoutFramePointer();
using WalkVisitor = void (*)(const WalkStart& start, void* context);
int RecurseWithoutFramePointer(int levels, WalkVisitor walk, void* context, void** unwound,
                               int max);
volatile uintptr_t g_sink;
__attribute__((noinline)) uintptr_t CaptureReturnAddress() {
  return reinterpret_cast<uintptr_t>(__builtin_return_address(0));
}
}  // namespace testing

namespace {

TEST(TierSpec, ParsesNamesNodesAndOptions) {
  std::string error;
  auto tiers = ParseTierSpec(
      " fast=node:0,capacity=64M ; slow=1+3,policy=preferred,thp=on;cxl=4-6,policy=interleave",
      &error);
  ASSERT_TRUE(tiers) << error;
  ASSERT_EQ(tiers->size(), 3u);
  EXPECT_EQ((*tiers)[0].name, "fast");
  EXPECT_EQ((*tiers)[0].nodes, std::vector<int>{0});
  EXPECT_EQ((*tiers)[0].capacity_bytes, 64ull << 20);
  EXPECT_EQ((*tiers)[0].policy, Policy::kBind);
  EXPECT_EQ((*tiers)[1].nodes, (std::vector<int>{1, 3}));
  EXPECT_EQ((*tiers)[1].policy, Policy::kPreferred);
  EXPECT_TRUE(WantsHugePages((*tiers)[1], 1));
  EXPECT_FALSE(WantsHugePages((*tiers)[2], 2));
  EXPECT_TRUE(WantsHugePages((*tiers)[0], 0));
  EXPECT_EQ((*tiers)[2].nodes, (std::vector<int>{4, 5, 6}));
  auto again = ParseTierSpec(FormatTierSpec(*tiers), &error);
  ASSERT_TRUE(again) << error;
  EXPECT_EQ(FormatTierSpec(*again), FormatTierSpec(*tiers));
}

TEST(TierSpec, RejectsBadSpecsWithOneLineNamingTheProblem) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no tiers"},
      {"fast", "NAME=NODES"},
      {"fast=node:x", "bad node list"},
      {"fast=3-1", "bad node list"},
      {"fast=0,policy=sideways", "unknown policy"},
      {"fast=0,capacity=lots", "bad capacity"},
      {"fast=0,thp=maybe", "thp must be"},
      {"fast=0,color=red", "unknown option"},
      {"fast=0;fast=1", "listed twice"},
      {"default=0", "reserved"},
      {"fa st=0", "tier name"},
  };
  for (const auto& [spec, problem] : cases) {
    std::string error;
    EXPECT_FALSE(ParseTierSpec(spec, &error)) << spec;
    EXPECT_NE(error.find(problem), std::string::npos) << spec << " -> " << error;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
}

TEST(TierSpec, SizesAndNodeValidation) {
  EXPECT_EQ(ParseSize("4096"), 4096u);
  EXPECT_EQ(ParseSize("2K"), 2048u);
  EXPECT_EQ(ParseSize("3G"), 3ull << 30);
  EXPECT_FALSE(ParseSize("-1"));
  EXPECT_FALSE(ParseSize("1X"));
  EXPECT_FALSE(ParseSize("99999999999999T"));
  std::string error;
  auto ok = ParseTierSpec("fast=0;slow=0", &error);
  EXPECT_FALSE(ValidateTierNodes(*ok));
  auto bad = ParseTierSpec("fast=0;slow=9", &error);
  auto problem = ValidateTierNodes(*bad);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("node 9"), std::string::npos) << *problem;
}

TEST(Topology, DiscoveredTiersAreAllowedNodesAndAtLeastFastAndSlow) {
  const DiscoveredTiers found = DiscoverTiers();
  ASSERT_GE(found.tiers.size(), 2u);
  EXPECT_EQ(found.tiers[0].name, "fast");
  EXPECT_EQ(found.tiers[1].name, "slow");
  EXPECT_FALSE(ValidateTierNodes(found.tiers));
  EXPECT_EQ(ParseKernelList("0-2,5"), (std::vector<int>{0, 1, 2, 5}));
}

TEST(RunConfig, PlanMustNameKnownTiers) {
  std::string error;
  auto tiers = *ParseTierSpec("fast=0;slow=0", &error);
  profile::ProfileChunk profile;
  EXPECT_TRUE(CheckPlan(profile, tiers));             // no plan
  profile.mutable_plan()->set_leave_to_kernel(true);  // a plan that places nothing, on purpose
  EXPECT_FALSE(CheckPlan(profile, tiers));
  profile.mutable_plan()->set_leave_to_kernel(false);
  auto* a = profile.mutable_plan()->add_assignments();
  a->set_site_id(1);
  a->set_tier("slow");
  EXPECT_FALSE(CheckPlan(profile, tiers));
  profile.mutable_plan()->set_default_tier("default");
  EXPECT_FALSE(CheckPlan(profile, tiers));
  a->set_tier("warp");
  auto problem = CheckPlan(profile, tiers);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("'warp'"), std::string::npos);
  EXPECT_EQ(TierIndex(tiers, "slow"), 1);
  EXPECT_EQ(TierIndex(tiers, "default"), -1);
  EXPECT_EQ(TierIndex(tiers, "warp"), -2);
  // Explicit tiers win over the profile's.
  auto* t = profile.add_tiers();
  t->set_name("only");
  t->add_nodes(0);
  auto from_profile = ResolveTiers(nullptr, &profile, &error);
  ASSERT_TRUE(from_profile) << error;
  EXPECT_EQ(from_profile->tiers[0].name, "only");
  EXPECT_EQ(from_profile->tiers[0].nodes, std::vector<int>{0});
  // A tier without nodes (a plan made on another host) takes this machine's tier at its rank.
  auto* slow = profile.add_tiers();
  slow->set_name("later");
  auto filled = ResolveTiers(nullptr, &profile, &error);
  ASSERT_TRUE(filled) << error;
  EXPECT_EQ(filled->tiers[1].nodes, DiscoverTiers().tiers[1].nodes);
  auto from_spec = ResolveTiers(&tiers, &profile, &error);
  EXPECT_EQ(from_spec->tiers[0].name, "fast");
  t->set_policy("sideways");
  EXPECT_FALSE(ResolveTiers(nullptr, &profile, &error));
}

TEST(KeyTable, FindsWhatWasAddedAndFlagsConflicts) {
  KeyTable keys;
  ASSERT_TRUE(keys.Init(100));
  ModuleOffset a[2] = {{HashBytes("exe"), 0x1234}, {HashBytes("exe"), 0x5678}};
  ModuleOffset b[2] = {{HashBytes("exe"), 0x5678}, {HashBytes("exe"), 0x1234}};  // other order
  EXPECT_TRUE(keys.Add(HashKey(a, 2), 1));
  EXPECT_TRUE(keys.Add(HashKey(b, 2), 2));
  EXPECT_TRUE(keys.Add(HashKey(a, 1), 2));   // depth is part of the key
  EXPECT_TRUE(keys.Add(HashKey(a, 2), 1));   // same again: fine
  EXPECT_FALSE(keys.Add(HashKey(a, 2), 2));  // same key, other tier: ambiguous
  EXPECT_EQ(keys.Find(HashKey(a, 2)), 1);
  EXPECT_EQ(keys.Find(HashKey(b, 2)), 2);
  ModuleOffset c[1] = {{HashBytes("lib.so"), 0x1234}};
  EXPECT_EQ(keys.Find(HashKey(c, 1)), kNoCode);
  EXPECT_EQ(keys.size(), 3u);
}

// The run-time cache keeps a hash's upper 56 bits: stacks that differ in one frame, in the order
// of two frames, or in length never share them.
TEST(HashFrames, StacksThatDifferInOneFrameOrderOrLengthDifferAboveTheLowByte) {
  uint64_t state = 0x12345678;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return 0x7f0000000000ull + (state >> 24);  // return addresses in a plausible range
  };
  for (int round = 0; round < 20000; ++round) {
    uint64_t a[8], b[8];
    for (uint64_t& f : a) f = next();
    std::copy(a, a + 8, b);
    const int i = round % 8;
    b[i] = a[i] + 1 + (next() & 0xffff);
    const uint64_t ha = HashFrames(a, 8);
    EXPECT_NE(ha >> 8, HashFrames(b, 8) >> 8);
    std::swap(b[i], b[(i + 1) % 8]);
    b[(i + 1) % 8] = a[i];
    b[i] = a[(i + 1) % 8];
    EXPECT_NE(ha >> 8, HashFrames(b, 8) >> 8);
    EXPECT_NE(ha >> 8, HashFrames(a, 7) >> 8);
  }
}

TEST(SiteCache, InsertFindClearAndLearningCounts) {
  SiteCache cache;
  ASSERT_TRUE(cache.Init(true));
  const uint64_t frames[2] = {0x401000, 0x402000};
  const uint64_t h = HashFrames(frames, 2);
  size_t slot = 0;
  EXPECT_EQ(cache.Find(h, &slot), kNoCode);
  const long inserted = cache.Insert(h, 3, frames, 2);
  ASSERT_GE(inserted, 0);
  EXPECT_EQ(cache.Find(h, &slot), 3);
  EXPECT_EQ(static_cast<long>(slot), inserted);
  cache.Count(slot, 100);
  cache.Count(slot, 28);
  EXPECT_EQ(cache.allocs(slot), 2u);
  EXPECT_EQ(cache.bytes(slot), 128u);
  EXPECT_EQ(cache.depth(slot), 2);
  EXPECT_EQ(cache.frames(slot)[1], 0x402000u);
  // Colliding slots probe onward.
  for (uint64_t i = 1; i < 20; ++i) {
    ASSERT_GE(cache.Insert(h + (i << 20), 1, frames, 1), 0);
  }
  EXPECT_EQ(cache.Find(h, &slot), 3);
  EXPECT_EQ(cache.Find(h + (5ull << 20), &slot), 1);
  cache.Clear();
  EXPECT_EQ(cache.Find(h, &slot), kNoCode);
}

extern "C" __attribute__((noinline)) int ModuleTableProbe() {
  return 42;
}

TEST(ModuleTable, TranslatesAnAddressToThisProgramAndOffset) {
  ModuleTable modules;
  ASSERT_TRUE(modules.Init());
  EXPECT_TRUE(modules.RefreshIfChanged());
  EXPECT_FALSE(modules.RefreshIfChanged());  // nothing loaded since
  const auto address = reinterpret_cast<uintptr_t>(&ModuleTableProbe);
  const Module* m = modules.Find(address);
  ASSERT_NE(m, nullptr);
  EXPECT_NE(std::string(m->path).find("placer_unit_test"), std::string::npos) << m->path;
  const ModuleOffset mo = modules.Translate(address);
  EXPECT_EQ(mo.identity, m->identity);
  EXPECT_EQ(mo.offset, address - m->bias);
  EXPECT_EQ(modules.Find(0x10), nullptr);
  EXPECT_EQ(modules.Translate(0x10).identity, 0u);
}

int PolicyOf(void* p, unsigned long* mask) {
  int mode = -1;
  if (get_mempolicy(&mode, mask, 1024, p, MPOL_F_ADDR) != 0) return -1;
  return mode;
}

TEST(TierArenas, ExtentsAreBoundToTheTierNodesAndPointersKnowTheirTier) {
  std::string error;
  auto tiers = *ParseTierSpec("fast=node:0;slow=node:0,policy=preferred", &error);
  static TierArenas arenas;  // arenas live as long as the process, like the placer's
  ASSERT_TRUE(arenas.Create(tiers, &error)) << error;
  ASSERT_EQ(arenas.count(), 2);
  void* fast = mallocx(1 << 20, MALLOCX_ARENA(arenas.arena(0)) | MALLOCX_TCACHE_NONE);
  void* slow = mallocx(100, MALLOCX_ARENA(arenas.arena(1)) | MALLOCX_TCACHE_NONE);
  ASSERT_NE(fast, nullptr);
  ASSERT_NE(slow, nullptr);
  std::memset(fast, 1, 1 << 20);
  EXPECT_EQ(arenas.TierOf(fast), 0);
  EXPECT_EQ(arenas.TierOf(slow), 1);
  int on_stack = 0;
  EXPECT_EQ(arenas.TierOf(&on_stack), -1);
  unsigned long mask[16] = {};
  EXPECT_EQ(PolicyOf(fast, mask), MPOL_BIND);
  EXPECT_EQ(mask[0], 1ul);
  std::memset(mask, 0, sizeof(mask));
  EXPECT_EQ(PolicyOf(slow, mask), MPOL_PREFERRED);
  EXPECT_EQ(mask[0], 1ul);
  // The kernel put the touched pages on node 0.
  void* page = fast;
  int status = -1;
  ASSERT_EQ(move_pages(0, 1, &page, nullptr, &status, 0), 0);
  EXPECT_EQ(status, 0);
  unsigned arena = 0;
  size_t len = sizeof(arena);
  ASSERT_EQ(mallctl("arenas.lookup", &arena, &len, &slow, sizeof(slow)), 0);
  EXPECT_EQ(arena, arenas.arena(1));
  dallocx(fast, MALLOCX_TCACHE_NONE);
  dallocx(slow, MALLOCX_TCACHE_NONE);
}

unsigned ArenaCount() {
  unsigned n = 0;
  size_t len = sizeof(n);
  EXPECT_EQ(mallctl("arenas.narenas", &n, &len, nullptr, 0), 0);
  return n;
}

// A tier's first arena is made at start, each other one when a thread's spreading index first
// asks for it (a short program on a large machine made 16 per tier it never used).
TEST(TierArenas, ArenasBeyondTheFirstAreMadeWhenAThreadFirstNeedsThem) {
  std::string error;
  auto tiers = *ParseTierSpec("fast=node:0;slow=node:0", &error);
  static TierArenas arenas;
  const unsigned before = ArenaCount();
  ASSERT_TRUE(arenas.Create(tiers, &error, 4)) << error;
  EXPECT_EQ(ArenaCount(), before + 2);
  EXPECT_EQ(arenas.slice(0).arena_count, 4);
  EXPECT_EQ(arenas.arena(0, 0), arenas.arena(0));
  EXPECT_EQ(ArenaCount(), before + 2);
  const unsigned second = arenas.arena(0, 1);
  EXPECT_EQ(ArenaCount(), before + 3);
  EXPECT_NE(second, arenas.arena(0));
  EXPECT_EQ(arenas.arena(0, 5), second);  // 5 spreads to the same slot as 1
  EXPECT_EQ(ArenaCount(), before + 3);
  // It carves from the tier's slice like the first.
  void* p = mallocx(1 << 16, MALLOCX_ARENA(second) | MALLOCX_TCACHE_NONE);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(arenas.TierOf(p), 0);
  dallocx(p, MALLOCX_TCACHE_NONE);
  // Threads racing for the same slot all get one arena.
  std::vector<unsigned> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { got[t] = arenas.arena(1, 2); });
  for (auto& t : threads) t.join();
  for (int t = 1; t < 4; ++t) EXPECT_EQ(got[t], got[0]);
  EXPECT_EQ(arenas.arena(1, 2), got[0]);
}

TEST(TierArenas, BudgetRefusesExtentsBeyondCapacity) {
  std::string error;
  auto tiers = *ParseTierSpec("small=node:0,capacity=4M", &error);
  static TierArenas arenas;
  ASSERT_TRUE(arenas.Create(tiers, &error)) << error;
  std::vector<void*> blocks;
  void* p;
  while ((p = mallocx(1 << 20, MALLOCX_ARENA(arenas.arena(0)) | MALLOCX_TCACHE_NONE)) &&
         blocks.size() < 256) {
    blocks.push_back(p);
  }
  EXPECT_EQ(p, nullptr);  // refused before 256 MiB
  EXPECT_GE(blocks.size(), 3u);
  EXPECT_LE(arenas.used_bytes(0), (4ull << 20) + kMetadataAllowance * arenas.slice(0).arena_count);
  EXPECT_GT(arenas.slice(0).refused.load(), 0u);
  for (void* b : blocks) dallocx(b, MALLOCX_TCACHE_NONE);
  // Freed memory is reused within the budget.
  p = mallocx(1 << 20, MALLOCX_ARENA(arenas.arena(0)) | MALLOCX_TCACHE_NONE);
  EXPECT_NE(p, nullptr);
  dallocx(p, MALLOCX_TCACHE_NONE);
}

TEST(MappedRanges, RemoveReleasesWholeEntriesPartsAndHolesPerTier) {
  MappedRanges maps;
  ASSERT_TRUE(maps.Init());
  EXPECT_TRUE(maps.empty());
  MappedRangesLock lock(maps);
  ASSERT_TRUE(maps.Add(0x100000, 0x40000, 1));  // [1 MiB, 1.25 MiB) on tier 1
  ASSERT_TRUE(maps.Add(0x200000, 0x10000, 0));
  EXPECT_FALSE(maps.empty());
  uint64_t released[kMaxTiers] = {};
  // A hole in the middle of the tier-1 entry: two entries remain.
  EXPECT_EQ(maps.Remove(0x110000, 0x10000, released), 1);
  EXPECT_EQ(released[1], 0x10000u);
  EXPECT_EQ(released[0], 0u);
  EXPECT_EQ(maps.size(), 3u);
  // A range over the tail of tier 1, the gap and all of tier 0.
  std::memset(released, 0, sizeof(released));
  EXPECT_EQ(maps.Remove(0x130000, 0x100000, released), 0);
  EXPECT_EQ(released[1], 0x10000u);
  EXPECT_EQ(released[0], 0x10000u);
  // Nothing mapped there: nothing released.
  std::memset(released, 0, sizeof(released));
  EXPECT_EQ(maps.Remove(0x900000, 0x1000, released), -1);
  EXPECT_EQ(released[0] + released[1], 0u);
  // What is left: [1 MiB, +64K) and [+128K, +192K) on tier 1.
  EXPECT_EQ(maps.Remove(0, 0x1000000, released), 1);
  EXPECT_EQ(released[1], 0x20000u);
  EXPECT_TRUE(maps.empty());
}

TEST(MappedRanges, AFullTableRefusesNewEntries) {
  MappedRanges maps;
  ASSERT_TRUE(maps.Init());
  MappedRangesLock lock(maps);
  for (size_t i = 0; i < MappedRanges::kCapacity; ++i) {
    ASSERT_TRUE(maps.Add(0x1000000 + i * 0x2000, 0x1000, 0));
  }
  EXPECT_FALSE(maps.Add(0x100, 0x1000, 0));
  // Splitting needs a slot too: with none, the cut-off tail is released as well.
  uint64_t released[kMaxTiers] = {};
  maps.Remove(0x1000000, 0x800, released);
  EXPECT_EQ(released[0], 0x800u);
}

// Mappings share the tier's budget with its extents, and BindRange gives them the tier's policy.
TEST(TierArenas, MappingsAreChargedToTheBudgetAndBoundToTheTier) {
  std::string error;
  auto tiers = *ParseTierSpec("fast=node:0,capacity=8M;slow=node:0,policy=preferred", &error);
  static TierArenas arenas;
  ASSERT_TRUE(arenas.Create(tiers, &error, 1)) << error;
  const uint64_t budget = (8ull << 20) + kMetadataAllowance;
  EXPECT_EQ(arenas.slice(0).budget.load(), budget);
  EXPECT_EQ(arenas.slice(1).budget.load(), 0u);  // no capacity: no limit
  const uint64_t room = budget - arenas.used_bytes(0);
  EXPECT_TRUE(arenas.Charge(0, room - 4096));
  const uint64_t refused = arenas.slice(0).refused.load();
  EXPECT_FALSE(arenas.Charge(0, 8192));
  EXPECT_EQ(arenas.slice(0).refused.load(), refused + 1);
  // Extents are refused too while the mapping holds the budget...
  EXPECT_EQ(mallocx(1 << 20, MALLOCX_ARENA(arenas.arena(0)) | MALLOCX_TCACHE_NONE), nullptr);
  // ...and served again once it is released.
  arenas.Release(0, room - 4096);
  void* p = mallocx(1 << 20, MALLOCX_ARENA(arenas.arena(0)) | MALLOCX_TCACHE_NONE);
  EXPECT_NE(p, nullptr);
  if (p) dallocx(p, MALLOCX_TCACHE_NONE);
  EXPECT_TRUE(arenas.Charge(1, 1ull << 40));  // unlimited tier
  arenas.Release(1, 1ull << 40);

  const size_t len = 4 << 20;
  void* map = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(map, MAP_FAILED);
  unsigned long mask[16] = {};
  EXPECT_EQ(PolicyOf(map, mask), MPOL_DEFAULT);
  ASSERT_TRUE(arenas.BindRange(1, map, len, false));
  EXPECT_EQ(PolicyOf(static_cast<char*>(map) + len - 1, mask), MPOL_PREFERRED);
  EXPECT_EQ(mask[0], 1ul);
  std::memset(mask, 0, sizeof(mask));
  ASSERT_TRUE(arenas.BindRange(0, map, len, false));
  EXPECT_EQ(PolicyOf(map, mask), MPOL_BIND);
  EXPECT_EQ(mask[0], 1ul);
  munmap(map, len);
}

// --- the stats of a run's processes (stats_summary.h) ---

TEST(StatsSummary, EachProcessOfATreeGetsItsOwnStatsFile) {
  EXPECT_EQ(StatsPathFor("/d/%p.json", 42, true), "/d/42.json");
  EXPECT_EQ(StatsPathFor("/d/%p.json", 42, false), "/d/42.json");
  EXPECT_EQ(StatsPathFor("/d/s-%p-%p", 7, false), "/d/s-7-7");
  EXPECT_EQ(StatsPathFor("/d/stats.json", 42, true), "/d/stats.json");
  EXPECT_EQ(StatsPathFor("/d/stats.json", 42, false), "/d/stats.42.json");
  EXPECT_EQ(StatsPathFor("/d/stats", 42, false), "/d/stats.42.json");
}

TEST(StatsSummary, EachProcessOfATreeGetsItsOwnLearnedSitesFile) {
  EXPECT_EQ(ProcessFilePath("/d/l.tsp", 42, true), "/d/l.tsp");
  EXPECT_EQ(ProcessFilePath("/d/l.tsp", 42, false), "/d/l.42.tsp");
  EXPECT_EQ(ProcessFilePath("/d.x/learned", 42, false), "/d.x/learned.42");
  EXPECT_EQ(ProcessFilePath("/d/.hidden", 42, false), "/d/.hidden.42");
}

nlohmann::json ProcessStats(long pid, const std::string& program, bool in_profile, uint64_t hits,
                            uint64_t unknown, uint64_t fast, uint64_t slow) {
  nlohmann::json p;
  p["pid"] = pid;
  p["program"] = program;
  p["placement"] = "plan";
  p["plan_keys"] = 10;
  p["site_depth"] = 3;
  p["unwinder"] = "libunwind";
  p["program_in_profile"] = in_profile;
  p["plan_hits"] = hits;
  p["unknown_sites"] = unknown;
  p["fallbacks_to_default"] = 1;
  p["match_share"] = MatchShare(hits, unknown);
  nlohmann::json f, s;
  f["name"] = "fast";
  f["capacity_bytes"] = 1000;
  f["allocations"] = fast;
  f["fallbacks"] = 2;
  f["live_bytes"] = 100;
  f["resident_bytes"] = 200;
  f["resident_by_node"]["0"] = 200;
  s["name"] = "slow";
  s["allocations"] = slow;
  s["resident_by_node"]["1"] = 50;
  p["tiers"] = {f, s};
  return p;
}

TEST(StatsSummary, MergeAddsCountersAndTiersAndKeepsEveryProcess) {
  const auto merged = MergeStats({ProcessStats(10, "/bin/sh", false, 1, 99, 0, 100),
                                  ProcessStats(11, "/usr/bin/app", true, 900, 100, 800, 200),
                                  ProcessStats(12, "/usr/bin/app", true, 95, 5, 50, 50)},
                                 11);
  EXPECT_EQ(merged["pid"], 11);  // the configuration of the root process
  EXPECT_EQ(merged["program"], "/usr/bin/app");
  EXPECT_EQ(merged["process_count"], 3);
  ASSERT_EQ(merged["processes"].size(), 3u);
  EXPECT_EQ(merged["processes"][1]["program"], "/usr/bin/app");
  EXPECT_EQ(merged["processes"][1]["plan_hits"], 900);
  EXPECT_EQ(merged["processes"][1]["allocations"]["fast"], 800);
  EXPECT_EQ(merged["processes"][1]["allocations"]["slow"], 200);
  EXPECT_FALSE(merged["processes"][1].contains("tiers"));  // the totals' tiers are the only ones
  EXPECT_EQ(merged["plan_hits"], 996);
  EXPECT_EQ(merged["unknown_sites"], 204);
  EXPECT_EQ(merged["fallbacks_to_default"], 3);
  // The share counts the two processes that run the profile's program, not the shell.
  EXPECT_EQ(merged["match_processes"], 2);
  EXPECT_DOUBLE_EQ(merged["match_share"].get<double>(), 995.0 / 1100.0);
  ASSERT_EQ(merged["tiers"].size(), 2u);
  const auto& fast = merged["tiers"][0];
  EXPECT_EQ(fast["name"], "fast");
  EXPECT_EQ(fast["capacity_bytes"], 1000);  // a description, not a counter
  EXPECT_EQ(fast["allocations"], 850);
  EXPECT_EQ(fast["fallbacks"], 6);
  EXPECT_EQ(fast["resident_by_node"]["0"], 600);
  EXPECT_DOUBLE_EQ(fast["resident_per_live"].get<double>(), 2.0);
  EXPECT_EQ(merged["tiers"][1]["allocations"], 350);
  EXPECT_EQ(merged["tiers"][1]["resident_by_node"]["1"], 150);
  EXPECT_TRUE(MergeStats({}, 1).empty());
}

TEST(StatsSummary, OneLineWithTiersShareAndSpills) {
  const auto merged = MergeStats({ProcessStats(10, "/bin/sh", false, 1, 99, 0, 100),
                                  ProcessStats(11, "/usr/bin/app", true, 999, 1, 800, 200)},
                                 11);
  const std::string line = SummaryLine(merged);
  EXPECT_FALSE(LowMatch(merged));
  EXPECT_EQ(line,
            "1100 allocations placed (fast 800, slow 300) in 2 processes; 99.9% matched the "
            "plan (999 of 1000 allocations in the 1 process(es) running a program of the "
            "profile; 1 other(s) not counted, their sites outside the plan on the default "
            "placement); spills: 2 to a slower tier, 2 to the default "
            "placement");
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

// The walk counters add up over processes (the check's only where the processes have them), and
// the summary says when many stacks went to libunwind and what a walk check found.
TEST(StatsSummary, WalkCountersAddUpAndAreSaid) {
  auto a = ProcessStats(10, "/usr/bin/app", true, 100, 0, 60, 40);
  auto b = ProcessStats(11, "/usr/bin/app", true, 100, 0, 60, 40);
  a["libunwind_walks"] = 5;
  b["libunwind_walks"] = 7;
  auto merged = MergeStats({a, b}, 10);
  EXPECT_EQ(merged["libunwind_walks"], 12);
  EXPECT_FALSE(merged.contains("walk_checks"));
  EXPECT_EQ(SummaryLine(merged).find("libunwind"), std::string::npos) << SummaryLine(merged);
  b["libunwind_walks"] = 50;  // 55 of 200 placed
  EXPECT_NE(SummaryLine(MergeStats({a, b}, 10))
                .find("; 27.5% of the stacks walked by libunwind (code the unwind tables do not "
                      "describe): slower"),
            std::string::npos)
      << SummaryLine(MergeStats({a, b}, 10));
  for (auto* p : {&a, &b}) {
    (*p)["walk_checks"] = 100;
    (*p)["walk_mismatches"] = 0;
  }
  b["walk_mismatches"] = 3;
  merged = MergeStats({a, b}, 10);
  EXPECT_EQ(merged["walk_checks"], 200);
  EXPECT_NE(SummaryLine(merged).find("; walk check: 3 of 200 stacks differ from libunwind's"),
            std::string::npos)
      << SummaryLine(merged);
}

// Allocations of signal handlers that interrupted the allocator are not placed: the summary
// says how many, summed over processes, and when the handlers' heap refused some.
TEST(StatsSummary, SignalHandlersAllocationsAreSaid) {
  auto a = ProcessStats(10, "/usr/bin/app", true, 100, 0, 60, 40);
  auto b = ProcessStats(11, "/usr/bin/app", true, 100, 0, 60, 40);
  EXPECT_EQ(SummaryLine(MergeStats({a, b}, 10)).find("signal handlers"), std::string::npos);
  a["nested_allocs"] = 5;  // the placer's own nested allocations: not the program's handlers'
  EXPECT_EQ(SummaryLine(MergeStats({a, b}, 10)).find("signal handlers"), std::string::npos);
  a["signal_handler_allocs"] = 3;
  b["signal_handler_allocs"] = 4;
  auto merged = MergeStats({a, b}, 10);
  EXPECT_EQ(merged["signal_handler_allocs"], 7);
  EXPECT_EQ(merged["nested_allocs"], 5);
  EXPECT_NE(SummaryLine(merged).find(
                "; 7 allocations of signal handlers that interrupted the allocator (not placed)"),
            std::string::npos)
      << SummaryLine(merged);
  EXPECT_EQ(SummaryLine(merged).find("refused"), std::string::npos);
  b["nested_refused"] = 2;
  EXPECT_NE(SummaryLine(MergeStats({a, b}, 10))
                .find("; 2 of them refused: the signal handlers' heap was used up"),
            std::string::npos);
}

TEST(StatsSummary, LowMatchWarnsWithAdvice) {
  auto stats = ProcessStats(5, "/usr/bin/app", true, 10, 90, 1, 2);
  EXPECT_TRUE(LowMatch(stats));
  EXPECT_NE(SummaryLine(stats).find("; low match: 10.0% of allocations matched the plan; the "
                                    "profile may come from another build"),
            std::string::npos)
      << SummaryLine(stats);
  stats["unwinder"] = "fp";
  EXPECT_NE(SummaryLine(stats).find("--unwind fp"), std::string::npos) << SummaryLine(stats);
  stats["unwinder"] = "libunwind";
  stats["profile_modules_other_build"] = 1;
  EXPECT_NE(SummaryLine(stats).find("another build here"), std::string::npos);
  stats["program_in_profile"] = false;
  EXPECT_NE(SummaryLine(stats).find("no module named like the program (app)"), std::string::npos)
      << SummaryLine(stats);
  // 89.99 % is low, 90 % is not; without a plan nothing is low.
  EXPECT_TRUE(LowMatch(ProcessStats(5, "/a", true, 8999, 1001, 0, 0)));
  EXPECT_FALSE(LowMatch(ProcessStats(5, "/a", true, 9000, 1000, 0, 0)));
  auto learning = ProcessStats(5, "/a", true, 0, 100, 0, 0);
  learning["plan_keys"] = 0;
  EXPECT_FALSE(LowMatch(learning));
  EXPECT_NE(SummaryLine(learning).find("no plan to match"), std::string::npos);
  EXPECT_NE(SummaryLine(nlohmann::json::object()).find("no placer stats"), std::string::npos);
}

// The call frame information of this test program gives each call's step: the frame-pointer
// step where the caller keeps them, a CFA on rsp where it does not.
TEST(CallFrameRules, TheUnwindTablesGiveEachCallsStep) {
  const uintptr_t with = testing::CallWithFramePointer();
  const uintptr_t without = testing::CallWithoutFramePointer();
  dl_find_object found{};
  ASSERT_EQ(_dl_find_object(reinterpret_cast<void*>(with), &found), 0);
  const auto eh_frame_hdr = reinterpret_cast<uintptr_t>(found.dlfo_eh_frame);
  ASSERT_NE(eh_frame_hdr, 0u);
  const auto start = reinterpret_cast<uintptr_t>(found.dlfo_map_start);
#if defined(__x86_64__)
  EXPECT_EQ(StepRuleAt(eh_frame_hdr, with), kFramePointerStep);
  EXPECT_EQ(common::StepRuleOf(with), kFramePointerStep);
  const StepRule rule = StepRuleAt(eh_frame_hdr, without);
  EXPECT_EQ(common::StepRuleOf(without), rule);
  EXPECT_EQ(rule.base, StepRule::kRsp);
  EXPECT_GE(rule.cfa_offset, 16);  // the return address, and the call's 16-byte alignment
  EXPECT_EQ(rule.cfa_offset % 8, 0);
  EXPECT_EQ(rule.saved_rbp, StepRule::kRbpSame);
  EXPECT_EQ(StepRule::Unpack(rule.Pack()), rule);
  EXPECT_NE(StepRule{}.Pack(), 0u);
#endif
  EXPECT_EQ(StepRuleAt(0, with).base, StepRule::kUnknown);
  EXPECT_EQ(StepRuleAt(eh_frame_hdr, start > 64 ? start - 64 : 0).base, StepRule::kUnknown);
}

// The walk by call frame rules finds libunwind's frames, all the way to the outermost one: from
// a frame-pointer entry point through code without frame pointers (CFAs on rsp, on rbp, and read
// through rbp in functions that realign their stack), this test's own frames, GoogleTest's and
// the C library's start code (built by Debian without them).
struct StackBounds {
  uintptr_t lo = 0, hi = 0;
};
StackBounds ThisThreadsStack() {
  pthread_attr_t attr;
  void* stack = nullptr;
  size_t size = 0;
  StackBounds b;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return b;
  if (pthread_attr_getstack(&attr, &stack, &size) == 0) {
    b.lo = reinterpret_cast<uintptr_t>(stack);
    b.hi = b.lo + size;
  }
  pthread_attr_destroy(&attr);
  return b;
}

// The walks the test compares, made while the walked frames are live.
struct Walks {
  StackBounds stack;
  int unknown_rules = 0;
  WalkStart start{};
  uint64_t all[128], three[3], skipped[2];
  int all_n = 0, three_n = 0, skipped_n = 0;

  uint64_t RuleOf(uint64_t pc) {
    const StepRule rule = common::StepRuleOf(pc);
    if (rule.base == StepRule::kUnknown) ++unknown_rules;
    return rule.Pack();
  }
  static void Visit(const WalkStart& start, void* context) {
    Walks& w = *static_cast<Walks*>(context);
    auto rule_of = [&w](uint64_t pc, int) { return w.RuleOf(pc); };
    const uintptr_t lo = w.stack.lo, hi = w.stack.hi;
    w.start = start;
    w.all_n = WalkCallFrames(start, lo, hi, 0, 0, 128, w.all, rule_of);
    w.three_n = WalkCallFrames(start, lo, hi, 0, 0, 3, w.three, rule_of);
    // The walker's own frame (here: frame 0) left out, as the placer leaves out its own.
    w.skipped_n = WalkCallFrames(start, lo, hi, start.pc, start.pc + 1, 2, w.skipped, rule_of);
  }
};

TEST(CallFrameWalk, FindsTheFramesLibunwindFinds) {
  Walks w;
  w.stack = ThisThreadsStack();
  ASSERT_GT(w.stack.hi, w.stack.lo);
  for (int levels : {0, 1, 2, 5, 12}) {
    SCOPED_TRACE(levels);
    void* unwound[128];
    const int m = testing::RecurseWithoutFramePointer(levels, &Walks::Visit, &w, unwound, 128);
    ASSERT_GT(m, levels + 3);
    ASSERT_LT(m, 128);  // the whole stack
    EXPECT_EQ(w.unknown_rules, 0);
    ASSERT_EQ(w.all_n, m - 1);  // libunwind's frame 0 is CaptureWalks's own
    for (int i = 0; i < w.all_n; ++i) {
      EXPECT_EQ(w.all[i], reinterpret_cast<uint64_t>(unwound[i + 1])) << "frame " << i;
    }
    ASSERT_EQ(w.three_n, 3);
    EXPECT_TRUE(std::equal(w.three, w.three + 3, w.all));
    ASSERT_EQ(w.skipped_n, 2);
    EXPECT_TRUE(std::equal(w.skipped, w.skipped + 2, w.all + 1));
  }
}

// Outside the stack, with no rule to follow, or with a CFA that does not move up the stack (a
// wild rbp): libunwind's walk (-1), never a guess.
TEST(CallFrameWalk, EndsWithLibunwindWhereItCannotStep) {
  const StackBounds stack = ThisThreadsStack();
  const uintptr_t lo = stack.lo, hi = stack.hi;
  ASSERT_GT(hi, lo);
  uint64_t frames[8];
  const WalkStart here{0x401000, reinterpret_cast<uintptr_t>(&frames[0]), 0};
  auto rsp_rule = [](uint64_t, int) { return StepRule{StepRule::kRsp, 16}.Pack(); };
  EXPECT_EQ(WalkCallFrames(WalkStart{1, hi + 64, 0}, lo, hi, 0, 0, 8, frames, rsp_rule), -1);
  EXPECT_EQ(
      WalkCallFrames(here, lo, hi, 0, 0, 8, frames, [](uint64_t, int) { return uint64_t{0}; }), -1);
  EXPECT_EQ(WalkCallFrames(here, lo, hi, 0, 0, 8, frames,
                           [](uint64_t, int) { return StepRule{}.Pack(); }),
            -1);
  EXPECT_EQ(WalkCallFrames(here, lo, hi, 0, 0, 8, frames,
                           [](uint64_t, int) { return kFramePointerStep.Pack(); }),
            -1);
  // The outermost frame ends the walk where it is, with the frames so far.
  EXPECT_EQ(WalkCallFrames(here, lo, hi, 0, 0, 8, frames,
                           [](uint64_t, int) { return StepRule{StepRule::kOutermost}.Pack(); }),
            1);
  EXPECT_EQ(frames[0], 0x401000u);
}

// A rule is read from the module once (StepRuleOf, through _dl_find_object), then found in the
// thread's last walk at its step, in the thread's recent rules, or in the shared table; a Clear
// of the shared table makes every thread forget its own.
TEST(StepRuleCache, RuleForReadsOnceThenFindsTheRuleNearby) {
  StepRuleCache shared;
  ASSERT_TRUE(shared.Init());
  RecentStepRules recent{};
  const uint64_t pc = testing::CallWithoutFramePointer();
  const uint64_t rule = common::RuleFor(pc, 3, recent, shared);
#if defined(__x86_64__)
  EXPECT_EQ(StepRule::Unpack(rule).base, StepRule::kRsp);
#endif
  EXPECT_EQ(rule, common::StepRuleOf(pc).Pack());
  EXPECT_EQ(shared.Find(pc), rule);
  EXPECT_EQ(recent.Find(pc), rule);
  EXPECT_EQ(recent.last[3].pc, pc);
  EXPECT_EQ(common::RuleFor(pc, 3, recent, shared), rule);
  EXPECT_EQ(shared.size(), 1u);
  shared.Clear();
  recent.Follow(shared.generation());
  EXPECT_EQ(recent.Find(pc), 0u);
  EXPECT_EQ(recent.last[3].pc, 0u);
  EXPECT_EQ(common::RuleFor(pc, RecentStepRules::kLastSteps + 6, recent, shared), rule);
  EXPECT_EQ(shared.size(), 1u);
  EXPECT_EQ(common::StepRuleOf(0).base, StepRule::kUnknown);
}

// The rule cache: what is inserted is found; a full probe run refuses; Clear forgets.
TEST(StepRuleCache, FindsWhatItKeepsAndForgetsOnClear) {
  StepRuleCache cache;
  ASSERT_TRUE(cache.Init());
  const uint64_t rule = StepRule{StepRule::kRsp, 24}.Pack();
  EXPECT_EQ(cache.Find(0x401000), 0u);
  ASSERT_TRUE(cache.Insert(0x401000, rule));
  EXPECT_EQ(cache.Find(0x401000), rule);
  EXPECT_EQ(cache.Find(0x401001), 0u);
  size_t kept = 1;
  for (uint64_t pc = 0x500000; pc < 0x500000 + 40000; ++pc) kept += cache.Insert(pc, rule);
  EXPECT_EQ(cache.size(), kept);
  EXPECT_EQ(cache.Find(0x401000), rule);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.Find(0x401000), 0u);
}

}  // namespace
}  // namespace tierscope::placer
