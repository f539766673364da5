// Shared by the analyzer's subcommands: loading profiles with CLI errors, progress on stderr.
#pragma once

#include <string>

#include <vector>

#include <CLI/CLI.hpp>

#include "profile.pb.h"
#include "tierscope/analyzer/evaluate.h"
#include "tierscope/analyzer/tiers.h"

namespace tierscope::analyzer::cli {

// Reads a whole profile; a damaged or wrong file is a RunError (exit 1), a missing one a
// UsageError (exit 2), each one line naming the file.
profile::ProfileChunk LoadProfileOrThrow(const std::string& path);

// The tiers of `plan` and `evaluate`: exactly one of --tier specs, a tiers file or this machine's
// topology, then --latency (default 100 ns for the first tier, 300 ns for the others). Bad
// input is a UsageError naming it.
std::vector<TierSpec> TiersFromFlags(const std::vector<std::string>& specs,
                                     const std::string& tiers_file, bool from_topology,
                                     const std::string& latency);

// The flags of `plan` and `evaluate` that shape how a plan is made and chosen: --depth-loss and
// --min-gain (analyzer/plan.h, PlanOptions). Returns them (to tell whether one was given).
std::vector<CLI::Option*> AddPlanChoiceFlags(CLI::App& app, PlanOptions* options);

// Prints an evaluation (text, `top` sites) on stdout, its warnings and any damage on stderr.
// Returns the exit status: 1 when the trace was damaged (the figures cover what came before).
int PrintEvaluation(const EvaluationResult& result, const std::string& format, size_t top);

// Prints "\rNAME: NN%" on stderr when it is a terminal or `forced`; Done() ends the line.
class Progress {
 public:
  Progress(std::string name, bool forced);
  void operator()(double share);
  void Done();
  bool enabled() const { return enabled_; }

 private:
  std::string name_;
  bool enabled_;
  int last_ = -1;
};

}  // namespace tierscope::analyzer::cli
