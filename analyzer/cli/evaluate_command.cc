// `tierscope evaluate [--profile A.tsprof] B.trace [--tier NAME=SIZE|P%]... [--format ...]`: plan
// from run A, replay run B. Without --profile the plan is learned from B itself, and the output
// says it is in-sample.
#include <iostream>

#include "cli/load.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/analyzer/evaluate.h"
#include "tierscope/cli/subcommands.h"

namespace tierscope::cli {
namespace {

class EvaluateCommand : public Subcommand {
 public:
  const char* name() const override { return "evaluate"; }
  const char* summary() const override {
    return "Replay a plan on a held-out trace against first-touch, other policies and hindsight "
           "bounds";
  }
  void Configure(CLI::App& app) override {
    app.add_option("trace", trace_, "Trace of the run to replay (another run than the profile's)")
        ->required();
    app.add_option("--profile", profile_,
                   "Profile learned from another run (default: learn from TRACE itself, "
                   "in-sample)");
    app.add_option("--tier", tier_specs_,
                   "NAME=SIZE or NAME=P% of the trace's peak heap; 'rest' for the last (default: "
                   "the profile's plan)");
    app.add_option("--tiers-file", tiers_file_, "File with one 'NAME SIZE [LATENCY_NS]' a line");
    app.add_flag("--from-topology", from_topology_, "Tiers from this machine's NUMA nodes");
    app.add_option("--latency", latency_, "NAME=NSns,... (default: 100ns first, 300ns others)");
    app.add_option("--format", format_, "text, json or csv")
        ->check(CLI::IsMember({"text", "json", "csv"}));
    app.add_option("--top", top_, "Sites shown (0: all)")->check(CLI::Range(size_t{0}, SIZE_MAX));
    app.add_option("--bins", options_.bins, "Time bins (bytes over time, hindsight windows)")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--site-windows", options_.site_windows,
                   "Allocation-time windows per site for the site x window bound")
        ->check(CLI::Range(1u, 1000u));
    app.add_option("--size-threshold", plan_.size_threshold,
                   "Size-threshold policy: largest allocation that goes fast");
    app.add_option("--seed", options_.random_seed, "Seed of the random-sites control");
    // With --tier (a plan made here): how it is made and chosen, as in `tierscope plan`.
    plan_choice_ = analyzer::cli::AddPlanChoiceFlags(app, &plan_);
    app.add_flag("--progress", progress_, "Progress on stderr even when it is not a terminal");
  }

  int Run() override {
    RequireReadable(trace_);
    const bool own_tiers = !tier_specs_.empty() || !tiers_file_.empty() || from_topology_;
    if (own_tiers) {
      plan_.tiers =
          analyzer::cli::TiersFromFlags(tier_specs_, tiers_file_, from_topology_, latency_);
    } else if (!latency_.empty()) {
      throw UsageError("--latency goes with --tier, --tiers-file or --from-topology");
    } else {
      for (const CLI::Option* o : plan_choice_) {
        if (o->count() > 0) {
          throw UsageError(o->get_name() +
                           " goes with --tier, --tiers-file or --from-topology (a plan made "
                           "here; without them the profile's own plan is replayed as it is)");
        }
      }
    }
    analyzer::cli::Progress progress("evaluate", progress_);
    const analyzer::Footprint footprint = analyzer::MeasureFootprint(trace_);
    if (footprint.error && footprint.peak_heap_bytes == 0) {
      throw RunError(footprint.error->Message());
    }
    options_.peak_heap_bytes = footprint.peak_heap_bytes;

    profile::ProfileChunk learned;
    if (!profile_.empty()) {
      learned = analyzer::cli::LoadProfileOrThrow(profile_);
    } else {
      std::cerr << "evaluate: no --profile: learning the plan from " << trace_
                << " itself (in-sample figures flatter the plan; give the profile of another run)"
                << "\n";
      analyzer::AnalyzeResult analyzed = analyzer::AnalyzeTrace(trace_);
      learned = std::move(analyzed.profile);
    }
    if (!own_tiers) {
      if (learned.tiers_size() < 1 || !learned.has_plan()) {
        throw UsageError((profile_.empty() ? trace_ : profile_) +
                         ": no plan to evaluate: give --tier NAME=SIZE|P% (e.g. --tier fast=25% "
                         "--tier slow=rest)");
      }
      for (const auto& t : learned.tiers()) {
        plan_.tiers.push_back({t.name(), t.capacity_bytes(), t.latency_ns(), 0});
      }
    }
    try {
      analyzer::ResolveShares(footprint.peak_heap_bytes, &plan_.tiers);
      options_.progress = [&](double share) { progress(share); };
      analyzer::EvaluationResult r;
      if (own_tiers) {
        r = analyzer::PlanAndEvaluate(learned, plan_, trace_, options_);
      } else {
        // The plan the placer would read, as it is; the random control made for its tiers.
        const profile::ProfileChunk random =
            analyzer::RandomPlan(learned, plan_, options_.random_seed);
        options_.tiers = plan_.tiers;
        options_.size_threshold = plan_.size_threshold;
        r = analyzer::Evaluate(trace_, learned, &random, options_);
      }
      progress.Done();
      r.profile_path = profile_;
      if (profile_.empty()) r.held_out = false;
      return analyzer::cli::PrintEvaluation(r, format_, top_);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }

 private:
  std::string trace_, profile_, tiers_file_, latency_, format_ = "text";
  std::vector<std::string> tier_specs_;
  std::vector<CLI::Option*> plan_choice_;  // --depth-loss, --min-gain
  bool from_topology_ = false, progress_ = false;
  size_t top_ = 15;
  analyzer::PlanOptions plan_;
  analyzer::EvaluateOptions options_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeEvaluateCommand() {
  return std::make_unique<EvaluateCommand>();
}

}  // namespace tierscope::cli
