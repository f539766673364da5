#include "cli/load.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "tierscope/analyzer/tier_discovery.h"
#include "tierscope/cli/subcommand.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::analyzer::cli {

profile::ProfileChunk LoadProfileOrThrow(const std::string& path) {
  tierscope::cli::RequireReadable(path);
  auto result = formats::ReadProfile(path);
  if (result.error) {
    if (result.error->kind == formats::FormatError::Kind::kIo) {
      throw tierscope::cli::UsageError(result.error->Message());
    }
    throw tierscope::cli::RunError(result.error->Message());
  }
  return std::move(result.profile);
}

std::vector<TierSpec> TiersFromFlags(const std::vector<std::string>& specs,
                                     const std::string& tiers_file, bool from_topology,
                                     const std::string& latency) {
  const int sources = !specs.empty() + !tiers_file.empty() + from_topology;
  if (sources != 1) {
    throw tierscope::cli::UsageError(
        "give exactly one of --tier (e.g. --tier fast=1G --tier slow=rest), --tiers-file, "
        "--from-topology");
  }
  std::vector<TierSpec> tiers;
  try {
    if (from_topology) {
      std::string note;
      tiers = TiersFromTopology(&note);
      std::cerr << "tiers: " << note << "\n";
    } else if (!tiers_file.empty()) {
      tierscope::cli::RequireReadable(tiers_file);
      tiers = ReadTiersFile(tiers_file);
    } else {
      for (const auto& s : specs) tiers.push_back(ParseTier(s));
      for (size_t i = 0; i < tiers.size(); ++i) tiers[i].latency_ns = i == 0 ? 100 : 300;
    }
    if (!latency.empty()) ParseLatencies(latency, &tiers);
  } catch (const std::invalid_argument& e) {
    throw tierscope::cli::UsageError(e.what());
  }
  return tiers;
}

int PrintEvaluation(const EvaluationResult& r, const std::string& format, size_t top) {
  if (format == "json") {
    WriteEvaluationJson(r, top, std::cout);
  } else if (format == "csv") {
    WriteEvaluationCsv(r, std::cout);
  } else {
    WriteEvaluationText(r, top, std::cout);
  }
  std::cout.flush();
  for (const auto& w : r.warnings) std::cerr << "evaluate: " << w << "\n";
  if (r.error) {
    std::cerr << "evaluate: " << r.error->Message() << " (figures cover the trace before it)\n";
    return 1;
  }
  return 0;
}

Progress::Progress(std::string name, bool forced)
    : name_(std::move(name)), enabled_(forced || ::isatty(STDERR_FILENO)) {}

void Progress::operator()(double share) {
  if (!enabled_) return;
  const int percent = static_cast<int>(share * 100);
  if (percent == last_) return;
  last_ = percent;
  std::fprintf(stderr, "\r%s: %3d%%", name_.c_str(), percent);
  std::fflush(stderr);
}

void Progress::Done() {
  if (enabled_ && last_ >= 0) std::fprintf(stderr, "\n");
  last_ = -1;
}

std::vector<CLI::Option*> AddPlanChoiceFlags(CLI::App& app, PlanOptions* options) {
  return {
      app.add_option("--depth-loss", options->depth_loss_share,
                     "Share of the samples a shallower site depth may cost, as a fraction (the "
                     "placer walks that many frames per allocation; default 0.001, 0: none)")
          ->check(CLI::Range(0.0, 1.0)),
      app.add_option("--min-gain", options->min_gain_share,
                     "Share of the learned run's heap samples a plan must serve from the fast "
                     "tier beyond the kernel's first touch, else the plan leaves placement to the "
                     "kernel (default 0.01, 0: always a plan)")
          ->check(CLI::Range(0.0, 1.0))};
}

}  // namespace tierscope::analyzer::cli
