#include "tierscope/placer/memory_tiers.h"

#include <dirent.h>
#include <numa.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace tierscope::placer {
namespace {

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::vector<int> AllowedNodes() {
  std::vector<int> nodes;
  if (numa_available() < 0) return {0};
  struct bitmask* allowed = numa_get_mems_allowed();
  for (int n = 0; n <= numa_max_node(); ++n) {
    if (numa_bitmask_isbitset(allowed, n)) nodes.push_back(n);
  }
  numa_bitmask_free(allowed);
  if (nodes.empty()) nodes.push_back(0);
  return nodes;
}

std::vector<int> Keep(const std::vector<int>& nodes, const std::vector<int>& allowed) {
  std::vector<int> kept;
  for (int n : nodes) {
    if (std::find(allowed.begin(), allowed.end(), n) != allowed.end()) kept.push_back(n);
  }
  return kept;
}

std::string TierName(size_t index) {
  if (index == 0) return "fast";
  if (index == 1) return "slow";
  return "slow" + std::to_string(index);
}

}  // namespace

std::vector<int> ParseKernelList(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty() || !std::isdigit(static_cast<unsigned char>(item[0]))) continue;
    const auto dash = item.find('-');
    const int first = std::stoi(item.substr(0, dash));
    const int last = dash == std::string::npos ? first : std::stoi(item.substr(dash + 1));
    for (int n = first; n <= last && n - first < 4096; ++n) out.push_back(n);
  }
  return out;
}

DiscoveredTiers DiscoverTiers() {
  const std::vector<int> allowed = AllowedNodes();
  std::vector<std::vector<int>> groups;
  DiscoveredTiers result;

  // The kernel's own tiers, lowest abstract distance (fastest) first.
  std::map<int, std::vector<int>> by_tier;
  if (DIR* dir = opendir("/sys/devices/virtual/memory_tiering")) {
    while (dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name.rfind("memory_tier", 0) != 0 || name.size() == 11) continue;
      const auto nodes = Keep(
          ParseKernelList(ReadLine("/sys/devices/virtual/memory_tiering/" + name + "/nodelist")),
          allowed);
      if (!nodes.empty()) by_tier[std::atoi(name.c_str() + 11)] = nodes;
    }
    closedir(dir);
  }
  if (by_tier.size() > 1) {
    for (auto& [id, nodes] : by_tier) groups.push_back(nodes);
    result.source = "memory_tiering";
  } else {
    // One kernel tier (6.1 without HMAT): CPU-less memory nodes are the slow tier.
    std::vector<int> with_cpus, cpu_less;
    for (int n : allowed) {
      const auto cpus = ParseKernelList(
          ReadLine("/sys/devices/system/node/node" + std::to_string(n) + "/cpulist"));
      (cpus.empty() ? cpu_less : with_cpus).push_back(n);
    }
    if (!with_cpus.empty() && !cpu_less.empty()) {
      groups = {with_cpus, cpu_less};
      result.source = "cpu-less nodes";
    } else {
      groups = {allowed};
      result.source = "one tier";
    }
  }
  if (groups.size() == 1) {
    // Plans name a fast and a slow tier: both exist, on the same nodes.
    groups.push_back(groups[0]);
    result.single_node = true;
  }
  for (size_t i = 0; i < groups.size() && i < 8; ++i) {
    TierSpec tier;
    tier.name = TierName(i);
    tier.nodes = groups[i];
    tier.policy = tier.nodes.size() > 1 ? Policy::kInterleave : Policy::kBind;
    result.tiers.push_back(tier);
  }
  return result;
}

}  // namespace tierscope::placer
