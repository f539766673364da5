#include "tierscope/placer/run_config.h"

#include <algorithm>
#include <cstdlib>

#include "tierscope/placer/memory_tiers.h"

namespace tierscope::placer {
namespace {

std::string TierNames(const std::vector<TierSpec>& tiers) {
  std::string names;
  for (const auto& t : tiers) {
    if (!names.empty()) names += ", ";
    names += t.name;
  }
  return names;
}

}  // namespace

int TierIndex(const std::vector<TierSpec>& tiers, const std::string& name) {
  if (name.empty() || name == "default") return -1;
  for (size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i].name == name) return static_cast<int>(i);
  }
  return -2;
}

std::optional<ResolvedTiers> ResolveTiers(const std::vector<TierSpec>* explicit_tiers,
                                          const profile::ProfileChunk* profile,
                                          std::string* error) {
  ResolvedTiers r;
  if (explicit_tiers && !explicit_tiers->empty()) {
    r.tiers = *explicit_tiers;
    r.source = "explicit";
  } else if (profile && profile->tiers_size() > 0) {
    std::optional<DiscoveredTiers> discovered;
    for (const auto& t : profile->tiers()) {
      TierSpec spec;
      spec.name = t.name();
      spec.nodes.assign(t.nodes().begin(), t.nodes().end());
      if (spec.nodes.empty()) {
        // A plan made offline names tiers, not nodes: take the i-th tier of this machine.
        if (!discovered) discovered = DiscoverTiers();
        spec.nodes =
            discovered->tiers[std::min(r.tiers.size(), discovered->tiers.size() - 1)].nodes;
        r.single_node = discovered->single_node;
      }
      spec.capacity_bytes = t.capacity_bytes();
      auto policy = ParsePolicy(t.policy());
      if (!policy) {
        *error = "profile tier '" + t.name() + "' has unknown policy '" + t.policy() + "'";
        return std::nullopt;
      }
      spec.policy = *policy;
      spec.thp = t.huge_pages() ? Thp::kOn : Thp::kDefault;
      r.tiers.push_back(spec);
    }
    if (r.tiers.size() > 8) {
      *error = "the profile lists more than 8 tiers";
      return std::nullopt;
    }
    r.source = "profile";
  } else {
    DiscoveredTiers found = DiscoverTiers();
    r.tiers = found.tiers;
    r.source = "discovered (" + found.source + ")";
    r.single_node = found.single_node;
  }
  if (auto problem = ValidateTierNodes(r.tiers)) {
    *error = *problem;
    return std::nullopt;
  }
  return r;
}

std::optional<std::string> CheckPlan(const profile::ProfileChunk& profile,
                                     const std::vector<TierSpec>& tiers) {
  if (profile.plan().assignments_size() == 0 && !profile.plan().leave_to_kernel()) {
    return std::string(
        "the profile has no plan (make one with 'tierscope plan PROFILE --tier fast=SIZE "
        "--tier slow=rest', or --from-topology)");
  }
  for (const auto& a : profile.plan().assignments()) {
    if (TierIndex(tiers, a.tier()) == -2) {
      return "the plan names tier '" + a.tier() + "', which is not one of the tiers here (" +
             TierNames(tiers) + ")";
    }
  }
  if (TierIndex(tiers, profile.plan().default_tier()) == -2) {
    return "the plan's default tier '" + profile.plan().default_tier() +
           "' is not one of the tiers here (" + TierNames(tiers) + ")";
  }
  if (profile.plan().site_depth() > 8) {
    return "the plan's site depth " + std::to_string(profile.plan().site_depth()) +
           " is above 8, the deepest the placer unwinds";
  }
  return std::nullopt;
}

std::optional<double> ParseTimelineEvery(const std::string& text, std::string* error) {
  if (text.empty()) return 10.0;
  std::string number = text;
  double scale = 1;
  if (number.size() > 2 && number.compare(number.size() - 2, 2, "ms") == 0) {
    number.resize(number.size() - 2);
    scale = 1e-3;
  } else if (number.size() > 1 && number.back() == 's') {
    number.pop_back();
  }
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  const double seconds = value * scale;
  if (number.empty() || end != number.c_str() + number.size() || !(seconds >= 0.01) ||
      seconds > 86400) {
    *error = "'" + text + "': expected seconds between 0.01 and 86400 (e.g. 10, 2.5s, 500ms)";
    return std::nullopt;
  }
  return seconds;
}

}  // namespace tierscope::placer
