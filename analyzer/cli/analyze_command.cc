// `tierscope analyze TRACE... [-o PROFILE]`
#include <iostream>

#include "cli/load.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/analyzer/merge.h"
#include "tierscope/analyzer/symbolize_beside_join.h"
#include "tierscope/cli/subcommands.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::cli {
namespace {

// t.trace -> t.tsprof; a name without .trace gets .tsprof added.
std::string DefaultProfilePath(const std::string& trace) {
  const std::string ext = ".trace";
  const bool has_ext =
      trace.size() > ext.size() && trace.compare(trace.size() - ext.size(), ext.size(), ext) == 0;
  return (has_ext ? trace.substr(0, trace.size() - ext.size()) : trace) + ".tsprof";
}

class AnalyzeCommand : public Subcommand {
 public:
  const char* name() const override { return "analyze"; }
  const char* summary() const override {
    return "Join a trace's samples to allocations: sites, temperature, symbolized stacks -> "
           "profile";
  }
  void Configure(CLI::App& app) override {
    app.add_option("traces", traces_, "Trace files (several: one merged profile)")->required();
    app.add_option("-o,--output", output_,
                   "Profile to write (default: beside the first trace, its name with .tsprof in "
                   "place of .trace)");
    app.add_option("--site-depth", options_.site_depth,
                   "Group allocations by the innermost N frames (0: whole stack)")
        ->check(CLI::Range(0u, 1024u));
    app.add_option("--bins", options_.target_bins, "Time bins of the histograms")
        ->check(CLI::Range(1u, 100000u));
    app.add_option("--debug-dir", symbols_.debug_dirs,
                   "Folder with separate debug info (searched by build-id), repeatable");
    app.add_option("--sysroot", symbols_.sysroot, "Prefix for module paths");
    app.add_flag("--no-symbolize", no_symbolize_, "Keep module+offset only");
    app.add_flag("--progress", progress_, "Progress on stderr even when it is not a terminal");
  }
  int Run() override {
    for (const auto& t : traces_) RequireReadable(t);
    const bool named = !output_.empty();
    if (!named) output_ = DefaultProfilePath(traces_.front());
    RequireWritable(output_);
    profile::ProfileChunk merged;
    std::optional<formats::FormatError> damage;
    analyzer::SymbolizeBesideJoin symbolizer(symbols_);
    if (!no_symbolize_) symbolizer.Attach(&options_);
    for (const auto& path : traces_) {
      analyzer::cli::Progress progress("analyze " + path, progress_);
      options_.progress = [&](double s) { progress(s); };
      auto result = analyzer::AnalyzeTrace(path, options_);
      progress.Done();
      if (result.error && !result.error->KeepsEarlierChunks()) {
        if (result.error->kind == formats::FormatError::Kind::kIo) {
          throw UsageError(result.error->Message());
        }
        throw RunError(result.error->Message());
      }
      if (result.error && !damage) damage = result.error;
      analyzer::MergeInto(&merged, std::move(result.profile));
    }
    if (!no_symbolize_) {
      symbolizer.SymbolizeProfile(&merged);
      for (const auto& module : symbolizer.other_builds()) {
        std::cerr << "tierscope analyze: " << module
                  << " here is another build than the one recorded (its build-id differs): its "
                     "frames are left unnamed\n";
      }
    }
    formats::WriteProfile(output_, std::move(merged));
    if (!named) std::cerr << "tierscope analyze: profile written to " << output_ << "\n";
    if (damage) {
      // The profile holds every complete chunk; the exit status still says the input was damaged.
      throw RunError(damage->Message() + " (profile written from the complete chunks before it)");
    }
    return 0;
  }

 private:
  std::vector<std::string> traces_;
  std::string output_;
  analyzer::AnalyzeOptions options_;
  analyzer::SymbolizeOptions symbols_;
  bool no_symbolize_ = false;
  bool progress_ = false;
};

}  // namespace

std::unique_ptr<Subcommand> MakeAnalyzeCommand() {
  return std::make_unique<AnalyzeCommand>();
}

}  // namespace tierscope::cli
