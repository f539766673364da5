// `tierscope plan PROFILE --tier fast=8G --tier slow=rest [--latency fast=100ns,slow=300ns]
//  [--evaluate-on TRACE]`
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/load.h"
#include "tierscope/analyzer/evaluate.h"
#include "tierscope/analyzer/plan.h"
#include "tierscope/cli/subcommands.h"
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
    app.add_option("--evaluate-on", evaluate_on_,
                   "Replay the plan on this trace (another run: held out) against first-touch, "
                   "interleave, size threshold, random sites and hindsight bounds");
    app.add_option("--max-site-depth", options_.max_site_depth, "Cap on the plan's site depth")
        ->check(CLI::Range(1u, 64u));
    analyzer::cli::AddPlanChoiceFlags(app, &options_);
  }
  int Run() override {
    auto profile = analyzer::cli::LoadProfileOrThrow(path_);
    options_.tiers =
        analyzer::cli::TiersFromFlags(tier_specs_, tiers_file_, from_topology_, latency_);
    if (!evaluate_on_.empty()) RequireReadable(evaluate_on_);
    if (analyzer::HasShares(options_.tiers)) {
      if (evaluate_on_.empty()) {
        throw UsageError(
            "a tier given as a share of the peak heap (e.g. fast=25%) needs a trace: "
            "add --evaluate-on TRACE");
      }
      ResolveSharesOrThrow(analyzer::MeasureFootprint(evaluate_on_).peak_heap_bytes);
    }
    options_.method = method_ == "greedy"  ? analyzer::PlanOptions::Method::kGreedy
                      : method_ == "exact" ? analyzer::PlanOptions::Method::kExact
                                           : analyzer::PlanOptions::Method::kAuto;
    const profile::ProfileChunk learned = profile;
    try {
      profile = analyzer::SelectPlan(learned, options_, &note_);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
    const std::string out = output_.empty() ? path_ : output_;
    RequireWritable(out);
    formats::WriteProfile(out, profile);
    PrintSummary(profile);
    if (!note_.empty()) std::printf("%s\n", note_.c_str());
    if (evaluate_on_.empty()) {
      std::printf(
          "(scored on the profile's own run; add --evaluate-on TRACE of another run to "
          "replay the plan where it was not learned)\n");
      return 0;
    }
    std::printf("\n");
    analyzer::EvaluateOptions eval;
    eval.peak_heap_bytes = peak_;
    analyzer::EvaluationResult r = analyzer::PlanAndEvaluate(learned, options_, evaluate_on_, eval);
    r.profile_path = path_;
    return analyzer::cli::PrintEvaluation(r, "text", 10);
  }

 private:
  static void PrintSummary(const profile::ProfileChunk& p) {
    const auto& plan = p.plan();
    std::map<std::string, int> per_tier;
    for (const auto& a : plan.assignments()) ++per_tier[a.tier()];
    if (plan.leave_to_kernel()) {
      std::printf("plan: leave placement to the kernel's first touch (no assignments)");
    } else {
      std::printf("plan (%s, site depth %u):", plan.method().c_str(), plan.site_depth());
      for (const auto& t : p.tiers())
        std::printf(" %s=%d sites", t.name().c_str(), per_tier[t.name()]);
    }
    std::printf(
        "\nscored on the profile's own run by a site-level model (in-sample, not a "
        "held-out figure):\n%-16s %12s %18s\n",
        "placement", "fast share", "stall saved (ms)");
    std::printf("%-16s %11.1f%% %18.3f\n", "tierscope", plan.fast_share() * 100,
                plan.stall_saved_ns() * 1e-6);
    for (const auto& b : plan.baselines()) {
      std::printf("%-16s %11.1f%% %18.3f\n", b.name().c_str(), b.fast_share() * 100,
                  b.stall_saved_ns() * 1e-6);
    }
  }

  void ResolveSharesOrThrow(uint64_t peak) {
    peak_ = peak;
    try {
      analyzer::ResolveShares(peak, &options_.tiers);
    } catch (const std::invalid_argument& e) {
      throw RunError(evaluate_on_ + ": " + e.what());
    }
  }

  std::string path_, output_, tiers_file_, latency_, method_ = "auto", evaluate_on_;
  uint64_t peak_ = 0;
  std::string note_;
  std::vector<std::string> tier_specs_;
  bool from_topology_ = false;
  analyzer::PlanOptions options_;
};

}  // namespace

std::unique_ptr<Subcommand> MakePlanCommand() {
  return std::make_unique<PlanCommand>();
}

}  // namespace tierscope::cli
