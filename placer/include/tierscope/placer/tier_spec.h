// Tiers: what they are, how they are written down, and how the machine's own are discovered.
//
// Spec syntax (env TIERSCOPE_TIERS, `tierscope run --tiers`, one tier per line in a tiers file):
//   TIER[;TIER...]          tiers from fastest to slowest
//   TIER  = NAME=NODES[,OPTION...]
//   NODES = [node:]N | N-M | N+M+...     e.g. "0", "node:1", "0-3", "1+3"
//   OPTION = policy=bind|preferred|interleave   (default bind)
//          | capacity=SIZE                      bytes, or with K/M/G/T suffix; 0 = unlimited
//          | thp=on|off|default                  default: on for the first tier, off after
// Example: "fast=node:0,capacity=64M;slow=node:1,policy=preferred"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tierscope::placer {

enum class Policy { kBind, kPreferred, kInterleave };
enum class Thp { kDefault, kOn, kOff };

struct TierSpec {
  std::string name;
  std::vector<int> nodes;
  Policy policy = Policy::kBind;
  uint64_t capacity_bytes = 0;  // 0: no limit
  Thp thp = Thp::kDefault;
};

const char* PolicyName(Policy policy);
std::optional<Policy> ParsePolicy(const std::string& text);
// "64M" -> 67108864. nullopt when malformed.
std::optional<uint64_t> ParseSize(const std::string& text);

// Parses a spec; on failure returns nullopt and sets *error to one line naming the problem.
std::optional<std::vector<TierSpec>> ParseTierSpec(const std::string& spec, std::string* error);
// A tiers file: one TIER per line (or ';'-separated), '#' starts a comment.
std::optional<std::vector<TierSpec>> ReadTierFile(const std::string& path, std::string* error);
// The tier list back in spec syntax (round-trips through ParseTierSpec).
std::string FormatTierSpec(const std::vector<TierSpec>& tiers);

// Checks every node against the nodes this process may use (cpuset mems_allowed). nullopt: ok.
std::optional<std::string> ValidateTierNodes(const std::vector<TierSpec>& tiers);
// "0,1,3" (sep ",") or "0+1+3" (sep "+").
std::string JoinNodes(const std::vector<int>& nodes, const char* sep);
// The effective transparent-huge-page choice for tier `index`.
bool WantsHugePages(const TierSpec& tier, size_t index);

}  // namespace tierscope::placer
