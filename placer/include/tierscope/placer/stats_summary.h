// The placer's stats across the processes of one run: where each process writes its file, the
// totals `tierscope run` makes of them, and the one summary line it ends with.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tierscope::placer {

// Below this share of allocations matched to the plan, the summary warns ("low match").
constexpr double kLowMatchShare = 0.90;

// plan_hits / (plan_hits + unknown_sites): the share of the allocations looked up in the plan
// that matched a planned site; 1 when none was looked up.
double MatchShare(uint64_t plan_hits, uint64_t unknown_sites);

// The stats file of process `pid` for TIERSCOPE_PLACER_STATS=`pattern`: every "%p" replaced by
// the pid; without "%p", the pattern itself for the first process of the tree (`tree_root`) and
// the pattern with ".PID" before its ".json" suffix (or ".PID.json" appended) for the others.
std::string StatsPathFor(const std::string& pattern, long pid, bool tree_root);

// The file of process `pid` for a per-process output named `path` (TIERSCOPE_PLACER_SITES, the
// learned sites; TIERSCOPE_PLACER_TIMELINE): the path itself for the tree's first process, else
// ".PID" before its extension (or appended), so that no process of a tree overwrites another's.
std::string ProcessFilePath(const std::string& path, long pid, bool tree_root);

// Totals of the stats of several processes (each as the placer writes it): counters and tier
// figures summed, the configuration fields of process `root_pid` (else the first), one entry per
// process under "processes" (pid, program, plan hits, unknown sites, match share, allocations
// per tier, ...), match_share recomputed. Empty input: an empty object.
nlohmann::json MergeStats(const std::vector<nlohmann::json>& processes, long root_pid);

// The line `tierscope run` ends with (without its "tierscope run: " prefix): allocations placed
// per tier, the share matched to the plan, spills; "low match: ..." with advice below 90 %.
std::string SummaryLine(const nlohmann::json& stats);
// Whether SummaryLine warns.
bool LowMatch(const nlohmann::json& stats);

}  // namespace tierscope::placer
