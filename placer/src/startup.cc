// Start and exit of the preloaded placer: the checked settings (placer_settings.h) become the
// tiers' arenas, the tables and the plan's key table, or the placer falls back to default
// placement with one line on stderr. Nothing here runs on the allocation path.
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <unordered_map>

#include "allocation_path.h"
#include "exit_report.h"
#include "nested_entry.h"
#include "placer_settings.h"
#include "tier_usage.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/placer/run_config.h"
#include "tierscope/placer/stats_summary.h"
#include "timeline.h"

namespace tierscope::placer {

void InitThreadMachinery(ThreadCounters* blocks);
RunInfo g_info;  // read-only once PlacerStart() returned

void Say(const std::string& line) {
  const std::string text = "tierscope-placer: " + line + "\n";
  ssize_t ignored = write(2, text.data(), text.size());
  (void)ignored;
}

namespace {

std::string Env(const char* name) {
  const char* v = getenv(name);
  return v ? v : "";
}

// Warnings are said once per process tree (kSaidVariable, run_config.h).
constexpr const char* kTreeVariable = "TIERSCOPE_PLACER_TREE";

bool AlreadySaid(const std::string& key) {
  const std::string said = Env(kSaidVariable);  // "key,key,..."
  for (size_t start = 0; start <= said.size();) {
    size_t end = said.find(',', start);
    if (end == std::string::npos) end = said.size();
    if (said.compare(start, end - start, key) == 0) return true;
    start = end + 1;
  }
  return false;
}

// From the constructor only: setenv is not safe while other threads may read the environment.
void SayOnce(const std::string& key, const std::string& line) {
  if (AlreadySaid(key)) return;
  Say(line);
  const std::string said = Env(kSaidVariable);
  setenv(kSaidVariable, (said.empty() ? key : said + "," + key).c_str(), 1);
}

// The first process of a tree (the one whose environment had no TIERSCOPE_PLACER_TREE) writes the
// stats file under its own name; the processes it starts add their pid (StatsPathFor).
void MarkProcessTree() {
  if (Env(kTreeVariable).empty()) setenv(kTreeVariable, std::to_string(getpid()).c_str(), 1);
}

bool TreeRoot() {
  return Env(kTreeVariable) == std::to_string(getpid());
}

// jemalloc's own malloc and free (the library the placer links), for their fast paths. Our own
// malloc/free would shadow them in a plain lookup, so they are looked up in jemalloc's handle.
void FindJemallocEntryPoints() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&mallocx), &info) == 0 || info.dli_fname == nullptr) return;
  void* handle = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
  if (handle == nullptr) return;
  auto m = reinterpret_cast<void* (*)(size_t)>(dlsym(handle, "malloc"));
  auto f = reinterpret_cast<void (*)(void*)>(dlsym(handle, "free"));
  // Both or neither, and never our own (a jemalloc build that does not export them).
  if (m && f && reinterpret_cast<void*>(m) != reinterpret_cast<void*>(&malloc)) {
    g_state.je_malloc = m;
    g_state.je_free = f;
  }
  dlclose(handle);
}

// The placement with the most allocations in the profile (planned sites on their tier, the
// others on the unknown-site tier) becomes the primary one, served by jemalloc's fast paths;
// `named` (TIERSCOPE_PLACER_PRIMARY) overrides it.
void ChoosePrimary(const PlacerSettings& settings, const std::string& named) {
  const std::vector<TierSpec>& tiers = settings.tiers.tiers;
  unsigned narenas = 0;
  size_t len = sizeof(narenas);
  if (mallctl("opt.narenas", &narenas, &len, nullptr, 0) == 0 && narenas > 0) {
    g_state.auto_arenas = narenas;
  }
  FindJemallocEntryPoints();
  uint64_t allocations[kMaxTiers + 1] = {};  // [0]: default, [i + 1]: tier i
  const auto& assignments = settings.profile.plan().assignments();
  for (int i = 0; i < assignments.size(); ++i) {
    const int index = TierIndex(tiers, assignments[i].tier());
    allocations[(index < 0 ? kDefaultTier : index) + 1] += settings.index.allocations(i);
  }
  allocations[g_state.unknown_tier + 1] += settings.index.other_allocations();
  int best = kDefaultTier;
  for (int t = 0; t < static_cast<int>(tiers.size()); ++t) {
    if (allocations[t + 1] > allocations[best + 1]) best = t;
  }
  // Tests (and a user who knows better) may name it; an unknown name keeps the choice above.
  if (!named.empty()) {
    const int index = TierIndex(tiers, named);
    if (index != -2) best = index < 0 ? kDefaultTier : index;
  }
  g_state.primary_plus1 = best + 1;
  g_info.primary = best == kDefaultTier ? "default" : tiers[best].name;
}

// The placer's tables and arenas for the checked settings. False (with g_info.reason) when they
// cannot be made.
bool CreateTables(const PlacerSettings& settings) {
  std::string error;
  if (!g_state.arenas.Create(settings.tiers.tiers, &error, settings.arenas_per_tier)) {
    g_info.reason = error;
    return false;
  }
  g_state.tiers_ready = true;
  const bool learning = !g_info.sites_path.empty();
  if (!g_state.modules.Init() || !g_state.cache.Init(learning) || !g_state.maps.Init() ||
      !g_state.rules.Init() ||
      !g_state.keys.Init(static_cast<size_t>(settings.profile.plan().assignments_size()) +
                         static_cast<size_t>(settings.index.prefix_keys_size())) ||
      (learning && !g_state.learned.Init())) {
    g_info.reason = "out of memory for the placer's tables";
    return false;
  }
  return true;
}

// Where the placer's own code, jemalloc and libunwind sit: their frames are not the program's.
void FindOwnCode() {
  g_state.modules.RefreshIfChanged();
  if (const Module* own = g_state.modules.Find(reinterpret_cast<uintptr_t>(&CreateTables))) {
    g_state.own_text_lo = own->start;
    g_state.own_text_hi = own->end;
  }
  if (const Module* m = g_state.modules.Find(reinterpret_cast<uintptr_t>(&mallocx))) {
    g_state.jemalloc_lo = m->start;
    g_state.jemalloc_hi = m->end;
  }
  if (const Module* m = g_state.modules.Find(reinterpret_cast<uintptr_t>(&unw_backtrace))) {
    g_state.libunwind_lo = m->start;
    g_state.libunwind_hi = m->end;
  }
}

// The plan's key table: each assignment's site key (the plan's index, formats/placement_index.h:
// the one definition of a site's key, common/site_key.h, as the analyzer's replay computes it)
// with its tier's code, or a quota arena's.
void AddPlanKeys(const PlacerSettings& settings) {
  const profile::ProfileChunk& profile = settings.profile;
  const profile::PlacementIndex& index = settings.index;
  const std::vector<TierSpec>& tiers = settings.tiers.tiers;
  for (const auto& m : index.modules()) g_info.profile_modules.emplace(m.name(), m.build_id());
  for (const auto& m : index.key_modules()) g_info.key_modules.emplace(m.name(), m.build_id());
  std::vector<bool> missing(static_cast<size_t>(index.keys_size()));
  for (uint32_t i : index.missing()) {
    if (i < missing.size()) missing[i] = true;
  }
  g_info.plan_sites_missing = static_cast<uint64_t>(index.missing_size());
  const auto& assignments = profile.plan().assignments();
  std::vector<uint8_t> codes(static_cast<size_t>(assignments.size()), kCodeUnknown);
  for (int i = 0; i < assignments.size(); ++i) {
    if (missing[static_cast<size_t>(i)]) continue;
    const profile::Assignment& a = assignments[i];
    const uint64_t key = index.keys(i);
    const int index = TierIndex(tiers, a.tier());
    uint8_t code = index == -1 ? kCodeDefault : static_cast<uint8_t>(index + 1);
    // The first assignment of a key wins, as in the replay.
    if (const uint8_t there = g_state.keys.Find(key); there != kNoCode) {
      if (there != code) ++g_info.plan_key_conflicts;
      codes[static_cast<size_t>(i)] = there;
      continue;
    }
    if (a.quota_bytes() != 0 && code != kCodeDefault) {
      const int tier = code - 1;
      const int id = g_state.quota_count;
      unsigned arena = 0;
      if (id < kMaxQuotas && g_state.arenas.CreateQuotaArena(tier, id, &arena)) {
        Quota& q = g_state.quotas[id];
        q.tier = tier;
        q.next = std::min(tier + 1, static_cast<int>(tiers.size()) - 1);
        q.limit = a.quota_bytes();
        q.site_id = a.site_id();
        q.arena = arena;
        g_state.quota_count = id + 1;
        code = static_cast<uint8_t>(kCodeQuota + id);
      } else {
        ++g_info.quota_sites_dropped;
      }
    }
    g_state.keys.Add(key, code);
    codes[static_cast<size_t>(i)] = code;
  }
  g_info.plan_keys = g_state.keys.size();
  // Per-prefix rules (formats/placement_index.cc): each names an assignment that stands for the
  // placement of its stacks (the first of a key, so its code is the one above), or -1, look
  // deeper. Not while learning, which counts every stack whole.
  const int rules = std::min(index.prefix_keys_size(), index.prefix_assignments_size());
  for (int r = 0; r < rules; ++r) {
    const int32_t a = index.prefix_assignments(r);
    if (a >= static_cast<int32_t>(codes.size())) continue;
    g_state.keys.Add(index.prefix_keys(r), a < 0 ? kCodeDeeper : codes[static_cast<size_t>(a)]);
  }
  g_state.prefix_rules = index.has_prefix_rules() && g_state.depth > 1 && !g_state.cache.learning();
  g_info.prefix_rules = rules;
}

// What the user should know about the plan here, said once per process tree.
void SayPlanWarnings(const PlacerSettings& settings, const ModuleCheck& check) {
  if (!settings.profile_path.empty() && settings.tiers.single_node) {
    SayOnce(kOneTierKey, "one memory tier on this machine: every tier maps to node " +
                             JoinNodes(settings.tiers.tiers[0].nodes, ","));
  }
  if (g_info.quota_sites_dropped != 0) {
    SayOnce("quotas-dropped", std::to_string(g_info.quota_sites_dropped) +
                                  " site(s) of the plan with a quota beyond the " +
                                  std::to_string(kMaxQuotas) +
                                  " the placer enforces: they go to their tier whole");
  }
  // A profile made from another build of a module matches none of its sites: said once.
  if (!check.other_build.empty()) {
    std::string names;
    for (const auto& name : check.other_build) names += (names.empty() ? "" : ", ") + name;
    SayOnce("other-build", std::to_string(check.other_build.size()) +
                               " module(s) of the plan are another build here than in the "
                               "profile (build-id): " +
                               names + "; their sites will not match");
  }
}

// The environment (placer_settings.h), then the state the allocation path reads. False (with
// g_info.reason) means default placement.
bool Configure() {
  const PlacerEnvironment env = ReadPlacerEnvironment(getenv);
  g_info.stats_path = env.stats;
  g_info.sites_path = env.sites;
  g_info.timeline_path = env.timeline;
  g_info.timeline_every = env.timeline_every;
  std::optional<PlacerSettings> settings = CheckPlacerSettings(env, &g_info.reason);
  if (!settings) return false;
  if (PlacesNothing(settings->profile.plan(), !g_info.sites_path.empty())) {
    g_info.left_to_kernel = true;
    g_info.reason =
        "the plan leaves placement to the kernel's first touch (no plan shape served clearly "
        "more accesses from the fast tier on the run it was learned from)";
    return false;
  }
  g_info.tier_source = settings->tiers.source;
  g_state.unknown_tier = settings->unknown_tier;
  g_state.depth = settings->depth;
  g_state.unwinder = settings->unwinder;
  g_state.min_size = settings->profile.plan().min_size();
  if (!CreateTables(*settings)) return false;
  g_info.tiers = settings->tiers.tiers;
  FindOwnCode();
  AddPlanKeys(*settings);
  const ModuleCheck modules = CheckModules(g_info, g_state.modules);
  SayPlanWarnings(*settings, modules);
  // A process of a program the profile does not know (a launcher's shell, a tool a script runs):
  // the plan has nothing to say about its own allocations, so they go where the kernel puts
  // them, not to the plan's tier for sites it does not name (its slowest: a wrapper's helpers
  // were bound to the slow tier whole), and jemalloc's fast paths serve that placement (the
  // primary). Sites of shared libraries the plan names are still placed; --default-tier and
  // TIERSCOPE_PLACER_PRIMARY still decide.
  const bool outside_profile = env.default_tier.empty() && !modules.program_in_profile;
  if (outside_profile) g_state.unknown_tier = kDefaultTier;
  ChoosePrimary(*settings, outside_profile && env.primary.empty() ? "default" : env.primary);
  g_info.profile_path = settings->profile_path;
  g_info.placement = settings->profile_path.empty() ? "default (no profile)" : "plan";
  return true;
}

__attribute__((constructor)) void PlacerStart() {
  t_thread.guard++;
  MarkProcessTree();
  InitThreadMachinery(MapArray<ThreadCounters>(4096));
  bool configured = false;
  try {  // nothing may escape into the program's start (std::terminate)
    configured = Configure();
  } catch (const std::exception& e) {
    g_info.reason = std::string("cannot start: ") + e.what();
  }
  if (configured) {
    g_state.routing.store(g_state.keys.size() > 0 || g_state.cache.learning(),
                          std::memory_order_release);
  } else {
    g_info.placement = "default";
    // A key of its own for the plan's choice: `tierscope run` says that one in its summary line
    // and marks it said (run_command.cc); any other reason is still said here.
    SayOnce(g_info.left_to_kernel ? kLeftToKernelKey : "default-placement",
            g_info.reason + "; running with default placement");
  }
  // Fork safety (allocation_path.h): every lock taken around fork; a child counts from zero.
  // Registered after jemalloc's own (at its first allocation, above), so the placer's prepare runs
  // first.
  pthread_atfork(ForkPrepare, ForkParent, ForkChild);
  CreateNestedHeap();
  // The timeline is a diagnostic: a bad interval stops it, not the placement.
  if (!g_info.timeline_path.empty()) {
    std::string error;
    if (std::optional<double> every = ParseTimelineEvery(g_info.timeline_every, &error)) {
      StartTimeline(g_info.timeline_path, TreeRoot(), *every);
    } else {
      Say("TIERSCOPE_PLACER_TIMELINE_EVERY=" + error + "; no timeline");
    }
  }
  t_thread.guard--;
}

// Runs in the program's exit path: nothing may escape from here (an exception would end the
// program with std::terminate instead of its own exit status).
__attribute__((destructor)) void PlacerExit() {
  t_thread.guard++;
  try {
    // One reading for the timeline's last line and the stats; neither asked: none (it reads
    // every arena's statistics and each tier's resident pages, ~1 ms per process here).
    if (!g_info.stats_path.empty() || !g_info.timeline_path.empty()) FreezeUsageForExit();
  } catch (...) {  // out of memory: each reads on its own
  }
  StopTimeline();  // never throws: its line is built under its own try
  try {
    if (!g_info.stats_path.empty()) {
      const std::string path = StatsPathFor(g_info.stats_path, getpid(), TreeRoot());
      if (auto error = WriteStats(path, g_info)) Say(*error);
    }
  } catch (const std::exception& e) {
    Say(std::string("TIERSCOPE_PLACER_STATS: cannot write the stats: ") + e.what());
  } catch (...) {
    Say("TIERSCOPE_PLACER_STATS: cannot write the stats");
  }
  try {
    if (!g_info.sites_path.empty() && g_state.cache.learning()) {
      // Each process of the tree its own file: the last one to exit overwrote the others.
      const std::string path = ProcessFilePath(g_info.sites_path, getpid(), TreeRoot());
      if (auto error = WriteLearnedSites(path)) Say(*error);
    }
  } catch (const std::exception& e) {
    Say(std::string("TIERSCOPE_PLACER_SITES: cannot write the sites: ") + e.what());
  } catch (...) {
    Say("TIERSCOPE_PLACER_SITES: cannot write the sites");
  }
  t_thread.guard--;
}

}  // namespace
}  // namespace tierscope::placer

namespace tierscope::placer {
// For ts_malloc_tier: the tier list is read-only once the placer started.
int TierByName(const char* name) {
  if (!g_state.tiers_ready || name == nullptr) return kDefaultTier;
  const int index = TierIndex(g_info.tiers, name);
  return index >= 0 ? index : kDefaultTier;
}
}  // namespace tierscope::placer
