// `tierscope topology`: the memory tiers a run would use, and the NUMA nodes behind them (hwloc,
// with its memory attributes when the firmware reports them: HMAT latency and bandwidth).
#include <hwloc.h>

#include <cstdio>
#include <iostream>

#include "tierscope/cli/subcommands.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/placer/run_config.h"

namespace tierscope::cli {
namespace {

std::string Gib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f GiB", bytes / double(1ull << 30));
  return text;
}

std::string NodeList(const std::vector<int>& nodes) {
  return placer::JoinNodes(nodes, ",");
}

std::string Attribute(hwloc_topology_t topo, hwloc_memattr_id_t id, hwloc_obj_t node,
                      const char* unit) {
  hwloc_location initiator;
  initiator.type = HWLOC_LOCATION_TYPE_CPUSET;
  // CPU-less nodes (CXL, PMEM): as seen from the whole machine.
  initiator.location.cpuset =
      hwloc_bitmap_iszero(node->cpuset)
          ? const_cast<hwloc_cpuset_t>(hwloc_topology_get_topology_cpuset(topo))
          : node->cpuset;
  hwloc_uint64_t value = 0;
  if (hwloc_memattr_get_value(topo, id, node, &initiator, 0, &value) != 0) return "n/a";
  return std::to_string(value) + unit;
}

class TopologyCommand : public Subcommand {
 public:
  const char* name() const override { return "topology"; }
  const char* summary() const override {
    return "Print the memory tiers the placer would use and the NUMA nodes behind them";
  }
  void Configure(CLI::App& app) override {
    app.add_option("--tiers", tiers_, "Explicit tiers (as for 'tierscope run'), to check them");
    app.add_option("--profile", profile_, "Show the tiers this profile's plan would use");
  }
  int Run() override {
    std::string error;
    std::optional<std::vector<placer::TierSpec>> explicit_tiers;
    if (!tiers_.empty()) {
      explicit_tiers = tiers_[0] == '@' ? placer::ReadTierFile(tiers_.substr(1), &error)
                                        : placer::ParseTierSpec(tiers_, &error);
      if (!explicit_tiers) throw UsageError("--tiers: " + error);
    }
    profile::ProfileChunk profile;
    if (!profile_.empty()) {
      RequireReadable(profile_);
      auto read = formats::ReadProfilePlan(profile_);  // the plan and tiers: no site is needed
      if (!read.ok()) throw UsageError(read.error->Message());
      profile = std::move(read.profile);
    }
    auto resolved = placer::ResolveTiers(explicit_tiers ? &*explicit_tiers : nullptr,
                                         profile_.empty() ? nullptr : &profile, &error);
    if (!resolved) throw UsageError("tiers: " + error);
    std::cout << "tiers (" << resolved->source << "), fastest first:\n";
    for (size_t i = 0; i < resolved->tiers.size(); ++i) {
      const auto& t = resolved->tiers[i];
      std::cout << "  " << t.name << "  nodes=" << NodeList(t.nodes)
                << "  policy=" << placer::PolicyName(t.policy)
                << "  thp=" << (placer::WantsHugePages(t, i) ? "on" : "off") << "  capacity="
                << (t.capacity_bytes ? std::to_string(t.capacity_bytes) : "unlimited") << "\n";
    }
    if (resolved->single_node) {
      std::cout << "note: one memory tier on this machine: every tier maps to node "
                << NodeList(resolved->tiers[0].nodes) << "\n";
    }
    std::cout << "spec: " << placer::FormatTierSpec(resolved->tiers) << "\n";

    hwloc_topology_t topo;
    if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0) {
      throw RunError("hwloc cannot read this machine's topology");
    }
    std::cout << "NUMA nodes (hwloc):\n";
    for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, nullptr); node;
         node = hwloc_get_next_obj_by_type(topo, HWLOC_OBJ_NUMANODE, node)) {
      std::cout << "  node " << node->os_index
                << "  memory=" << Gib(node->attr->numanode.local_memory)
                << "  cpus=" << hwloc_bitmap_weight(node->cpuset)
                << "  latency=" << Attribute(topo, HWLOC_MEMATTR_ID_LATENCY, node, "ns")
                << "  bandwidth=" << Attribute(topo, HWLOC_MEMATTR_ID_BANDWIDTH, node, "MiB/s")
                << "\n";
    }
    hwloc_topology_destroy(topo);
    return 0;
  }

 private:
  std::string tiers_, profile_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeTopologyCommand() {
  return std::make_unique<TopologyCommand>();
}

}  // namespace tierscope::cli
