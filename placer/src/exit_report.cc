#include "exit_report.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "allocation_path.h"
#include "tier_usage.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/placer/stats_summary.h"

namespace tierscope::placer {

ThreadCounters* CounterBlocks(size_t* count);
ThreadCounters& SharedCounters();

namespace {

struct Totals {
  uint64_t allocs[kMaxTiers] = {}, bytes[kMaxTiers] = {}, fallbacks[kMaxTiers] = {},
           splits[kMaxTiers] = {}, hints[kMaxTiers] = {};
  uint64_t quota_allocs[kMaxQuotas] = {}, quota_over[kMaxQuotas] = {};
  uint64_t plan_hits = 0, unknown_sites = 0, small_skipped = 0, cache_misses = 0, busy_misses = 0,
           to_default = 0, libunwind_walks = 0, walk_checks = 0, walk_mismatches = 0,
           deep_lookups = 0, frames_read = 0;
  void Add(const ThreadCounters& c) {
    auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    for (int i = 0; i < kMaxTiers; ++i) {
      allocs[i] += get(c.allocs[i]);
      bytes[i] += get(c.bytes[i]);
      fallbacks[i] += get(c.fallbacks[i]);
      splits[i] += get(c.splits[i]);
      hints[i] += get(c.hints[i]);
    }
    for (int q = 0; q < kMaxQuotas; ++q) {
      quota_allocs[q] += get(c.quota_allocs[q]);
      quota_over[q] += get(c.quota_over[q]);
    }
    plan_hits += get(c.plan_hits);
    unknown_sites += get(c.unknown_sites);
    small_skipped += get(c.small_skipped);
    cache_misses += get(c.cache_misses);
    busy_misses += get(c.busy_misses);
    to_default += get(c.to_default);
    libunwind_walks += get(c.libunwind_walks);
    walk_checks += get(c.walk_checks);
    walk_mismatches += get(c.walk_mismatches);
    deep_lookups += get(c.deep_lookups);
    frames_read += get(c.frames_read);
  }
};

Totals Aggregate() {
  Totals t;
  size_t count = 0;
  ThreadCounters* blocks = CounterBlocks(&count);
  for (size_t i = 0; i < count; ++i) t.Add(blocks[i]);
  t.Add(SharedCounters());
  return t;
}

std::string ProgramPath() {
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  return n > 0 ? std::string(exe, n) : std::string();
}

}  // namespace

ModuleCheck CheckModules(const RunInfo& info, const ModuleTable& modules) {
  ModuleCheck check;
  for (size_t i = 0; i < modules.size(); ++i) {
    const Module& m = modules.at(i);
    const std::string name(BaseName(m.path));
    if (i == 0) check.program_in_profile = info.profile_modules.count(name) > 0;
    auto it = info.key_modules.find(name);
    if (it == info.key_modules.end() || it->second.empty() || m.build_id_len == 0) continue;
    const std::string build_id(reinterpret_cast<const char*>(m.build_id), m.build_id_len);
    if (build_id != it->second) check.other_build.push_back(name);
  }
  return check;
}

std::optional<std::string> WriteStats(const std::string& path, const RunInfo& info) {
  using nlohmann::json;
  const Totals t = Aggregate();
  RefreshAllocatorStats();

  json out;
  out["pid"] = getpid();
  out["program"] = ProgramPath();
  out["placement"] = info.placement;
  if (!info.reason.empty()) out["reason"] = info.reason;
  out["tier_source"] = info.tier_source;
  out["profile"] = info.profile_path;
  out["site_depth"] = g_state.depth;
  out["unwinder"] = g_state.unwinder == Unwinder::kLibunwind ? "libunwind"
                    : g_state.unwinder == Unwinder::kAuto    ? "auto"
                    : g_state.unwinder == Unwinder::kChecked ? "check"
                                                             : "fp";
  // auto: the stacks the call frame rules did not describe (libunwind walked them).
  out["libunwind_walks"] = t.libunwind_walks;
  out["step_rules"] = g_state.rules.size();
  // Allocations of signal handlers that interrupted the allocator (nested_heap.h): not placed.
  // nested_allocs also counts the placer's own, made inside an entry point.
  out["signal_handler_allocs"] = g_state.handler_allocs.load(std::memory_order_relaxed);
  out["nested_allocs"] = g_state.nested.allocs();
  out["nested_refused"] = g_state.nested.refused();
  if (g_state.unwinder == Unwinder::kChecked) {
    out["walk_checks"] = t.walk_checks;
    out["walk_mismatches"] = t.walk_mismatches;
  }
  out["min_size"] = g_state.min_size;
  out["plan_keys"] = info.plan_keys;
  // Keys deeper than one frame: the per-prefix rules, and the frames the lookups read (a walk
  // stops where the innermost frames decide).
  out["prefix_rules"] = info.prefix_rules;
  out["deep_lookups"] = t.deep_lookups;
  out["frames_read"] = t.frames_read;
  out["plan_key_conflicts"] = info.plan_key_conflicts;
  out["plan_sites_missing"] = info.plan_sites_missing;
  out["quota_sites_dropped"] = info.quota_sites_dropped;
  // Modules loaded now (dlopen'ed ones included) against the profile's.
  g_state.modules.RefreshIfChanged();
  const ModuleCheck modules = CheckModules(info, g_state.modules);
  out["program_in_profile"] = modules.program_in_profile;
  out["profile_modules_other_build"] = modules.other_build.size();
  out["profile_modules_other_build_names"] = modules.other_build;
  out["primary_placement"] = info.primary;
  out["plan_hits"] = t.plan_hits;
  out["unknown_sites"] = t.unknown_sites;
  // The share of the allocations looked up in the plan that matched a planned site.
  out["match_share"] = MatchShare(t.plan_hits, t.unknown_sites);
  out["small_skipped"] = t.small_skipped;
  out["cache_misses"] = t.cache_misses;
  out["busy_misses"] = t.busy_misses;
  out["fallbacks_to_default"] = t.to_default;
  out["unknown_site_tier"] =
      g_state.unknown_tier < 0 ? "default" : info.tiers[g_state.unknown_tier].name;
  out["rss_bytes"] = ProcessRss();
  uint64_t tiers_live = 0;
  json tiers = json::array();
  for (int i = 0; g_state.tiers_ready && i < g_state.arenas.count(); ++i) {
    const TierSpec& spec = info.tiers[i];
    const TierSlice& slice = g_state.arenas.slice(i);
    const TierUsage usage = UsageOf(i);
    tiers_live += usage.live_bytes;
    json tier;
    tier["name"] = spec.name;
    tier["nodes"] = spec.nodes;
    tier["policy"] = PolicyName(spec.policy);
    tier["huge_pages"] = WantsHugePages(spec, i);
    tier["capacity_bytes"] = spec.capacity_bytes;
    tier["arenas"] = usage.arenas;
    tier["allocations"] = t.allocs[i];
    tier["bytes_allocated"] = t.bytes[i];
    tier["live_bytes"] = usage.live_bytes;
    tier["footprint_bytes"] = usage.footprint_bytes;  // high-water mark: never shrinks
    // The program's own mappings placed on the tier (mmap from a planned site), still mapped.
    tier["mapped_bytes"] = usage.mapped_bytes;
    tier["fallbacks"] = t.fallbacks[i];
    // Large blocks that did not fit whole: their first pages here, the rest on a slower tier.
    tier["split_blocks"] = t.splits[i];
    tier["budget_refusals"] = slice.refused.load();
    tier["hint_calls"] = t.hints[i];
    json by_node = json::object();
    for (auto [node, bytes] : usage.resident_by_node) by_node[std::to_string(node)] = bytes;
    tier["resident_bytes"] = usage.resident_bytes;
    tier["resident_by_node"] = by_node;
    // Resident pages per live byte: >1 is fragmentation or pages not purged yet.
    tier["resident_per_live"] =
        usage.live_bytes ? static_cast<double>(usage.resident_bytes) / usage.live_bytes : 0.0;
    tiers.push_back(tier);
  }
  out["tiers"] = tiers;
  // Sites with a quota: their arena (on their tier), the bytes counted now and at most, the
  // allocations counted against the quota and those sent to the next tier because it was full.
  json quotas = json::array();
  for (int q = 0; q < g_state.quota_count; ++q) {
    const Quota& quota = g_state.quotas[q];
    json entry;
    entry["site_id"] = quota.site_id;
    entry["tier"] = info.tiers[quota.tier].name;
    entry["next_tier"] = info.tiers[quota.next].name;
    entry["quota_bytes"] = quota.limit;
    entry["arena"] = quota.arena;
    entry["used_bytes"] = quota.used.load();
    entry["peak_bytes"] = quota.peak.load();
    entry["allocations"] = t.quota_allocs[q];
    entry["over_quota"] = t.quota_over[q];
    quotas.push_back(entry);
  }
  out["quotas"] = quotas;
  out["tiers_live_bytes"] = tiers_live;

  // Paths (the program's, the profile's) need not be UTF-8: such bytes become U+FFFD rather than
  // an exception in the program's exit path.
  errno = 0;
  std::ofstream file(path, std::ios::trunc);
  file << out.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  file.close();
  if (!file) {
    return "TIERSCOPE_PLACER_STATS=" + path + ": cannot write the stats file" +
           (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string());
  }
  return std::nullopt;
}

std::optional<std::string> WriteLearnedSites(const std::string& path) {
  namespace pb = tierscope::profile;
  g_state.modules.RefreshIfChanged();
  g_state.learned.Fold(g_state.cache, g_state.modules);
  pb::ProfileChunk profile;
  profile.mutable_metadata()->set_site_depth(g_state.depth);
  profile.mutable_metadata()->set_tierscope_version("placer-learn");
  uint64_t id = 0;
  const LearnedSites& learned = g_state.learned;
  for (size_t i = 0; i < LearnedSites::kSites; ++i) {
    const LearnedSite& s = learned.site(i);
    if (s.key == 0 || s.allocs == 0) continue;
    pb::Site* site = profile.add_sites();
    site->set_id(++id);
    site->set_allocations(s.allocs);
    site->set_bytes(s.bytes);
    for (int d = 0; d < s.depth; ++d) {
      pb::Location* loc = site->add_stack();
      loc->set_offset(s.offset[d]);
      if (s.module[d] == 0xFFFF) continue;
      const LearnedModule& m = learned.module(s.module[d]);
      loc->set_module(m.path);
      loc->set_build_id(std::string(reinterpret_cast<const char*>(m.build_id), m.build_id_len));
    }
  }
  try {
    formats::WriteProfile(path, profile);
  } catch (const std::exception& e) {
    return std::string("TIERSCOPE_PLACER_SITES: ") + e.what();
  }
  return std::nullopt;
}

}  // namespace tierscope::placer
