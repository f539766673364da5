// `tierscope plan PROFILE --tier fast=8G --tier slow=rest [--latency fast=100ns,slow=300ns]`
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/load.h"
#include "subcommands.h"
#include "tierscope/analyzer/plan.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::cli {
namespace {

class PlanCommand : public Subcommand {
 public:
  const char* name() const override { return "plan"; }
  const char* summary() const override {
    return "Assign sites to memory tiers under capacities; store the plan in the profile";
  }
  void Configure(CLI::App& app) override {
    app.add_option("profile", path_, "Profile file")->required();
    app.add_option("-o,--output", output_, "Write here instead of updating the profile");
    app.add_option("--tier", tier_specs_, "NAME=SIZE (K/M/G/T suffixes; 'rest' for the last)");
    app.add_option("--tiers-file", tiers_file_, "File with one 'NAME SIZE [LATENCY_NS]' a line");
    app.add_flag("--from-topology", from_topology_, "Tiers from this machine's NUMA nodes");
    app.add_option("--latency", latency_, "NAME=NSns,... (default: 100ns first, 300ns others)");
    app.add_option("--method", method_, "auto, greedy or exact")
        ->check(CLI::IsMember({"auto", "greedy", "exact"}));
    app.add_option("--size-threshold", options_.size_threshold,
                   "Size-threshold baseline: mean allocation size that still goes fast");
    app.add_option("--max-site-depth", options_.max_site_depth, "Cap on the plan's site depth")
        ->check(CLI::Range(1u, 64u));
  }
  int Run() override {
    auto profile = analyzer::cli::LoadProfileOrThrow(path_);
    const int sources = !tier_specs_.empty() + !tiers_file_.empty() + from_topology_;
    if (sources != 1) {
      throw UsageError("give exactly one of --tier, --tiers-file, --from-topology");
    }
    try {
      if (from_topology_) {
        std::string note;
        options_.tiers = analyzer::TiersFromTopology(&note);
        std::cerr << "plan: " << note << "\n";
      } else if (!tiers_file_.empty()) {
        RequireReadable(tiers_file_);
        options_.tiers = analyzer::ReadTiersFile(tiers_file_);
      } else {
        for (const auto& s : tier_specs_) options_.tiers.push_back(analyzer::ParseTier(s));
        for (size_t i = 0; i < options_.tiers.size(); ++i) {
          options_.tiers[i].latency_ns = i == 0 ? 100 : 300;
        }
      }
      if (!latency_.empty()) analyzer::ParseLatencies(latency_, &options_.tiers);
      options_.method = method_ == "greedy"  ? analyzer::PlanOptions::Method::kGreedy
                        : method_ == "exact" ? analyzer::PlanOptions::Method::kExact
                                             : analyzer::PlanOptions::Method::kAuto;
      analyzer::MakePlan(options_, &profile);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    const std::string out = output_.empty() ? path_ : output_;
    RequireWritable(out);
    formats::WriteProfile(out, profile);
    PrintSummary(profile);
    return 0;
  }

 private:
  static void PrintSummary(const profile::ProfileChunk& p) {
    const auto& plan = p.plan();
    std::map<std::string, int> per_tier;
    for (const auto& a : plan.assignments()) ++per_tier[a.tier()];
    std::printf("plan (%s, site depth %u):", plan.method().c_str(), plan.site_depth());
    for (const auto& t : p.tiers())
      std::printf(" %s=%d sites", t.name().c_str(), per_tier[t.name()]);
    std::printf("\n%-16s %12s %18s\n", "placement", "fast share", "stall saved (ms)");
    std::printf("%-16s %11.1f%% %18.3f\n", "tierscope", plan.fast_share() * 100,
                plan.stall_saved_ns() * 1e-6);
    for (const auto& b : plan.baselines()) {
      std::printf("%-16s %11.1f%% %18.3f\n", b.name().c_str(), b.fast_share() * 100,
                  b.stall_saved_ns() * 1e-6);
    }
  }

  std::string path_, output_, tiers_file_, latency_, method_ = "auto";
  std::vector<std::string> tier_specs_;
  bool from_topology_ = false;
  analyzer::PlanOptions options_;
};

}  // namespace

std::unique_ptr<Subcommand> MakePlanCommand() {
  return std::make_unique<PlanCommand>();
}

}  // namespace tierscope::cli
