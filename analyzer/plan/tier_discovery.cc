// Tiers read from the machine: one per kernel memory tier when the kernel exposes them
// (/sys/devices/virtual/memory_tiering), else one per NUMA node (hwloc), fastest first.
#include <hwloc.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "tierscope/analyzer/tier_discovery.h"

namespace tierscope::analyzer {
namespace {

// "0-1,3" -> {0, 1, 3}
std::vector<unsigned> ParseNodeList(const std::string& text) {
  std::vector<unsigned> nodes;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part.empty() || part == "\n") continue;
    const auto dash = part.find('-');
    const unsigned a = std::stoul(part.substr(0, dash));
    const unsigned b = dash == std::string::npos ? a : std::stoul(part.substr(dash + 1));
    for (unsigned n = a; n <= b; ++n) nodes.push_back(n);
  }
  return nodes;
}

}  // namespace

std::vector<TierSpec> TiersFromTopology(std::string* note) {
  hwloc_topology_t topology;
  hwloc_topology_init(&topology);
  hwloc_topology_load(topology);
  std::map<unsigned, uint64_t> memory_of_node;
  const int count = hwloc_get_nbobjs_by_type(topology, HWLOC_OBJ_NUMANODE);
  for (int i = 0; i < count; ++i) {
    hwloc_obj_t node = hwloc_get_obj_by_type(topology, HWLOC_OBJ_NUMANODE, i);
    memory_of_node[node->os_index] = node->attr->numanode.local_memory;
  }
  hwloc_topology_destroy(topology);

  // Kernel memory tiers: a lower index is a faster tier.
  std::map<int, std::vector<unsigned>> tier_nodes;
  const std::filesystem::path sys = "/sys/devices/virtual/memory_tiering";
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(sys, ec)) {
    const std::string name = entry.path().filename();
    if (name.rfind("memory_tier", 0) != 0) continue;
    std::ifstream in(entry.path() / "nodelist");
    std::string list;
    std::getline(in, list);
    try {
      tier_nodes[std::stoi(name.substr(11))] = ParseNodeList(list);
    } catch (const std::exception&) {
    }
  }
  std::vector<TierSpec> tiers;
  if (tier_nodes.size() > 1) {
    int k = 0;
    for (const auto& [index, nodes] : tier_nodes) {
      TierSpec t;
      t.name = "tier" + std::to_string(k++);
      for (unsigned n : nodes) t.capacity_bytes += memory_of_node[n];
      tiers.push_back(t);
    }
    *note = std::to_string(tiers.size()) + " kernel memory tiers";
  } else {
    for (const auto& [node, bytes] : memory_of_node) {
      tiers.push_back({"node" + std::to_string(node), bytes, 0});
    }
    *note = std::to_string(tiers.size()) + " NUMA node(s), one tier each" +
            (tiers.size() == 1 ? ": a one-node machine has one tier, every site goes to it" : "");
  }
  if (!tiers.empty()) tiers.back().capacity_bytes = 0;  // the last tier takes the rest
  // Without measured latencies: 100 ns for the first tier, 300 ns for the others.
  for (size_t i = 0; i < tiers.size(); ++i) tiers[i].latency_ns = i == 0 ? 100 : 300;
  return tiers;
}

}  // namespace tierscope::analyzer
