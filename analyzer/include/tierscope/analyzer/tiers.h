// Memory tiers as the planner takes them: a name, a capacity (bytes, "rest", or a share of the
// peak heap) and a latency, parsed from flags and files. Implemented in analyzer/plan/tiers.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tierscope::analyzer {

struct TierSpec {
  std::string name;
  uint64_t capacity_bytes = 0;  // 0: no limit ("rest")
  double latency_ns = 0;
  // "fast=25%": a share of the replayed trace's peak heap (tierscope evaluate); capacity_bytes is
  // set from it by ResolveShares before planning.
  double share_of_peak = 0;
};

// "fast=8G" -> {fast, 8 GiB}; "slow=rest" -> {slow, 0}; "fast=25%" -> {fast, share 0.25}.
// Throws std::invalid_argument.
TierSpec ParseTier(const std::string& spec);
// Sets the capacity of every tier given as a share of the peak heap. Throws std::invalid_argument
// when a share cannot be resolved (peak 0).
void ResolveShares(uint64_t peak_heap_bytes, std::vector<TierSpec>* tiers);
// Whether any tier is given as a share of the peak heap.
bool HasShares(const std::vector<TierSpec>& tiers);
// "fast=100ns,slow=300ns" applied to `tiers` by name. Throws std::invalid_argument.
void ParseLatencies(const std::string& spec, std::vector<TierSpec>* tiers);
// A file with one "NAME SIZE [LATENCY_NS]" per line, '#' comments. Throws std::invalid_argument.
std::vector<TierSpec> ReadTiersFile(const std::string& path);

}  // namespace tierscope::analyzer
