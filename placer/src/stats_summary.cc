#include "tierscope/placer/stats_summary.h"

#include <cmath>
#include <cstdio>

namespace tierscope::placer {
namespace {

using nlohmann::json;

uint64_t U64(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}

// Counters of a process that add up over processes.
constexpr const char* kSummed[] = {"plan_hits",     "unknown_sites",    "small_skipped",
                                   "cache_misses",  "busy_misses",      "fallbacks_to_default",
                                   "rss_bytes",     "tiers_live_bytes", "libunwind_walks",
                                   "nested_allocs", "nested_refused",   "signal_handler_allocs",
                                   "deep_lookups",  "frames_read"};
// Summed too, where the processes have them (--unwind check only).
constexpr const char* kSummedWhenThere[] = {"walk_checks", "walk_mismatches"};
// Per tier.
constexpr const char* kTierSummed[] = {
    "allocations", "bytes_allocated", "live_bytes", "footprint_bytes", "mapped_bytes",
    "fallbacks",   "budget_refusals", "hint_calls", "resident_bytes",  "split_blocks"};
// Per process, the largest one stands for the run.
constexpr const char* kMax[] = {"profile_modules_other_build", "prefix_rules"};

void AddNumbers(json& into, const json& from, const char* key) {
  into[key] = U64(into, key) + U64(from, key);
}

void AddTier(json& into, const json& from) {
  for (const char* key : kTierSummed) AddNumbers(into, from, key);
  json by_node = into.value("resident_by_node", json::object());
  if (auto it = from.find("resident_by_node"); it != from.end() && it->is_object()) {
    for (const auto& [node, bytes] : it->items()) {
      if (bytes.is_number()) by_node[node] = U64(by_node, node.c_str()) + bytes.get<uint64_t>();
    }
  }
  into["resident_by_node"] = by_node;
}

std::string Percent(double share) {
  // Rounded down: 99.96 % is not "100.0 %" while some allocation did not match.
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f%%", std::floor(share * 1000.0) / 10.0);
  return text;
}

// A process's line in the totals: who it was and what it did; its tiers as name -> allocations
// (the totals' "tiers" stay the only tier objects in the file, for tools that scan them).
json ProcessEntry(const json& p) {
  json entry = json::object();
  for (const char* key :
       {"pid", "program", "placement", "reason", "plan_hits", "unknown_sites", "match_share",
        "program_in_profile", "unknown_site_tier", "primary_placement", "fallbacks_to_default",
        "profile_modules_other_build", "profile_modules_other_build_names", "rss_bytes"}) {
    if (auto it = p.find(key); it != p.end()) entry[key] = *it;
  }
  json allocations = json::object();
  if (auto tiers = p.find("tiers"); tiers != p.end() && tiers->is_array()) {
    for (const auto& t : *tiers) allocations[t.value("name", "?")] = U64(t, "allocations");
  }
  entry["allocations"] = allocations;
  return entry;
}

std::string ProgramName(const json& stats) {
  const std::string path = stats.value("program", std::string("?"));
  return path.substr(path.rfind('/') + 1);
}

}  // namespace

double MatchShare(uint64_t plan_hits, uint64_t unknown_sites) {
  const uint64_t checked = plan_hits + unknown_sites;
  return checked ? static_cast<double>(plan_hits) / static_cast<double>(checked) : 1.0;
}

std::string ProcessFilePath(const std::string& path, long pid, bool tree_root) {
  if (tree_root) return path;
  const size_t slash = path.rfind('/');
  const size_t dot = path.rfind('.');
  std::string id(1, '.');  // not "." + to_string: GCC 12 warns (-Wrestrict, a false positive)
  id += std::to_string(pid);
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) ||
      dot == (slash == std::string::npos ? 0 : slash + 1)) {
    return path + id;
  }
  std::string out(path, 0, dot);
  out += id;
  out.append(path, dot, std::string::npos);
  return out;
}

std::string StatsPathFor(const std::string& pattern, long pid, bool tree_root) {
  const std::string id = std::to_string(pid);
  if (pattern.find("%p") != std::string::npos) {
    std::string path;
    for (size_t i = 0; i < pattern.size(); ++i) {
      if (pattern.compare(i, 2, "%p") == 0) {
        path += id;
        ++i;
      } else {
        path += pattern[i];
      }
    }
    return path;
  }
  if (tree_root) return pattern;
  const std::string suffix = ".json";
  if (pattern.size() > suffix.size() &&
      pattern.compare(pattern.size() - suffix.size(), suffix.size(), suffix) == 0) {
    return pattern.substr(0, pattern.size() - suffix.size()) + "." + id + suffix;
  }
  return pattern + "." + id + suffix;
}

json MergeStats(const std::vector<json>& processes, long root_pid) {
  if (processes.empty()) return json::object();
  size_t root = 0;
  for (size_t i = 0; i < processes.size(); ++i) {
    if (processes[i].value("pid", 0l) == root_pid) root = i;
  }
  json total = processes[root];
  for (const char* key : kSummed) total[key] = 0;
  for (const char* key : kMax) total[key] = 0;
  json tiers = json::array();
  for (const char* key : kSummedWhenThere) {
    if (total.contains(key)) total[key] = 0;
  }
  for (const auto& p : processes) {
    for (const char* key : kSummed) AddNumbers(total, p, key);
    for (const char* key : kSummedWhenThere) {
      if (total.contains(key)) AddNumbers(total, p, key);
    }
    for (const char* key : kMax) total[key] = std::max(U64(total, key), U64(p, key));
    auto list = p.find("tiers");
    if (list == p.end() || !list->is_array()) continue;
    for (const auto& tier : *list) {
      const std::string name = tier.value("name", "");
      json* into = nullptr;
      for (auto& t : tiers) {
        if (t.value("name", "") == name) into = &t;
      }
      if (into == nullptr) {
        // The tier's description from the first process that has it, counters from zero.
        json fresh = tier;
        for (const char* key : kTierSummed) fresh[key] = 0;
        fresh["resident_by_node"] = json::object();
        tiers.push_back(fresh);
        into = &tiers.back();
      }
      AddTier(*into, tier);
    }
  }
  for (auto& t : tiers) {
    const uint64_t live = U64(t, "live_bytes");
    t["resident_per_live"] = live ? static_cast<double>(U64(t, "resident_bytes")) / live : 0.0;
  }
  total["tiers"] = tiers;
  // The share matched counts the processes that run a program of the profile (a launcher's
  // shells and tools are not what the plan is about), or every process when none does.
  uint64_t hits = 0, unknown = 0, counted = 0;
  for (int pass = 0; pass < 2 && counted == 0; ++pass) {
    for (const auto& p : processes) {
      if (pass == 0 && !p.value("program_in_profile", false)) continue;
      hits += U64(p, "plan_hits");
      unknown += U64(p, "unknown_sites");
      ++counted;
    }
  }
  total["program_in_profile"] = false;
  for (const auto& p : processes) {
    if (p.value("program_in_profile", false)) total["program_in_profile"] = true;
  }
  total["match_plan_hits"] = hits;
  total["match_unknown_sites"] = unknown;
  total["match_processes"] = counted;
  total["match_share"] = MatchShare(hits, unknown);
  total["process_count"] = processes.size();
  json list = json::array();
  for (const auto& p : processes) list.push_back(ProcessEntry(p));
  total["processes"] = list;
  return total;
}

// The allocations the share matched counts: over the processes MergeStats chose, else all.
static void MatchCounts(const json& stats, uint64_t* hits, uint64_t* unknown) {
  const bool merged = stats.contains("match_plan_hits");
  *hits = U64(stats, merged ? "match_plan_hits" : "plan_hits");
  *unknown = U64(stats, merged ? "match_unknown_sites" : "unknown_sites");
}

bool LowMatch(const json& stats) {
  uint64_t hits, unknown;
  MatchCounts(stats, &hits, &unknown);
  return U64(stats, "plan_keys") > 0 && hits + unknown > 0 &&
         MatchShare(hits, unknown) < kLowMatchShare;
}

std::string SummaryLine(const json& stats) {
  if (!stats.is_object() || stats.empty()) {
    return "no placer stats: the program did not load the placer (a static or set-user-ID "
           "program?) or did not exit normally";
  }
  std::string line;
  uint64_t placed = 0, fallbacks = 0, splits = 0;
  std::string per_tier;
  if (auto tiers = stats.find("tiers"); tiers != stats.end() && tiers->is_array()) {
    for (const auto& t : *tiers) {
      placed += U64(t, "allocations");
      fallbacks += U64(t, "fallbacks");
      splits += U64(t, "split_blocks");
      if (!per_tier.empty()) per_tier += ", ";
      per_tier += t.value("name", "?") + " " + std::to_string(U64(t, "allocations"));
    }
  }
  line = std::to_string(placed) + " allocations placed";
  if (!per_tier.empty()) line += " (" + per_tier + ")";
  const uint64_t processes = U64(stats, "process_count");
  if (processes > 1) line += " in " + std::to_string(processes) + " processes";
  const std::string placement = stats.value("placement", "");
  if (placement == "default") {
    return line + "; default placement: " + stats.value("reason", std::string("see above"));
  }
  uint64_t hits, unknown;
  MatchCounts(stats, &hits, &unknown);
  if (U64(stats, "plan_keys") == 0) {
    line += "; no plan to match";
  } else {
    line += "; " + Percent(MatchShare(hits, unknown)) + " matched the plan (" +
            std::to_string(hits) + " of " + std::to_string(hits + unknown) + " allocations";
    const uint64_t counted = U64(stats, "match_processes");
    if (processes > 1 && counted < processes) {
      line += " in the " + std::to_string(counted) + " process(es) running a program of the " +
              "profile; " + std::to_string(processes - counted) +
              " other(s) not counted, their sites outside the plan on the default placement";
    }
    line += ")";
  }
  const uint64_t to_default = U64(stats, "fallbacks_to_default");
  const uint64_t to_slower = fallbacks > to_default ? fallbacks - to_default : 0;
  if (to_slower + to_default == 0) {
    line += "; no spills";
  } else {
    line += "; spills: " + std::to_string(to_slower) + " to a slower tier, " +
            std::to_string(to_default) + " to the default placement";
  }
  if (splits > 0) line += "; " + std::to_string(splits) + " large blocks split across tiers";
  // The default walk leaves to libunwind the stacks the unwind tables do not describe (code
  // without them, signal handlers, other stacks): many such, and every allocation pays for it.
  const uint64_t walked_by_libunwind = U64(stats, "libunwind_walks");
  if (placed > 0 && walked_by_libunwind * 10 > placed) {
    line += "; " + Percent(double(walked_by_libunwind) / double(placed)) +
            " of the stacks walked by libunwind (code the unwind tables do not describe): slower";
  }
  if (const uint64_t nested = U64(stats, "signal_handler_allocs"); nested > 0) {
    line += "; " + std::to_string(nested) +
            " allocations of signal handlers that interrupted the allocator (not placed)";
  }
  if (const uint64_t refused = U64(stats, "nested_refused"); refused > 0) {
    line +=
        "; " + std::to_string(refused) + " of them refused: the signal handlers' heap was used up";
  }
  if (stats.contains("walk_mismatches")) {
    line += "; walk check: " + std::to_string(U64(stats, "walk_mismatches")) + " of " +
            std::to_string(U64(stats, "walk_checks")) + " stacks differ from libunwind's";
  }
  if (LowMatch(stats)) {
    line +=
        "; low match: " + Percent(MatchShare(hits, unknown)) + " of allocations matched the plan; ";
    const uint64_t other_build = U64(stats, "profile_modules_other_build");
    if (stats.value("unwinder", "") == "fp" && U64(stats, "site_depth") > 1) {
      line +=
          "--unwind fp reads wrong frames in code built without frame pointers: drop it (the "
          "default walk reads each module's unwind tables)";
    } else if (stats.contains("program_in_profile") && !stats.value("program_in_profile", true)) {
      line += "the profile has no module named like the program (" + ProgramName(stats) +
              "): is it the profile of another program?";
    } else if (other_build > 0) {
      line += std::to_string(other_build) +
              " module(s) of the profile are another build here (build-id): record, analyze "
              "and plan this build";
    } else {
      line +=
          "the profile may come from another build or another input of the program: record, "
          "analyze and plan it again";
    }
  }
  return line;
}

}  // namespace tierscope::placer
