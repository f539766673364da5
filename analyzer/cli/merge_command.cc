// `tierscope merge -o OUT A B ...`, `tierscope diff A B`, `tierscope export --pprof OUT PROFILE`
#include <iostream>

#include "cli/load.h"
#include "tierscope/analyzer/export.h"
#include "tierscope/analyzer/merge.h"
#include "tierscope/cli/subcommands.h"
#include "tierscope/formats/pprof_io.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::cli {
namespace {

class MergeCommand : public Subcommand {
 public:
  const char* name() const override { return "merge"; }
  const char* summary() const override {
    return "Combine profiles of many runs (matched by site key)";
  }
  void Configure(CLI::App& app) override {
    app.add_option("profiles", inputs_, "Profiles to merge")->required();
    app.add_option("-o,--output", output_, "Merged profile")->required();
  }
  int Run() override {
    for (const auto& p : inputs_) RequireReadable(p);
    RequireWritable(output_);
    profile::ProfileChunk merged;
    // One profile in memory at a time besides the result: the merge streams over the inputs.
    for (const auto& p : inputs_)
      analyzer::MergeInto(&merged, analyzer::cli::LoadProfileOrThrow(p));
    formats::WriteProfile(output_, std::move(merged));
    return 0;
  }

 private:
  std::vector<std::string> inputs_;
  std::string output_;
};

class DiffCommand : public Subcommand {
 public:
  const char* name() const override { return "diff"; }
  const char* summary() const override {
    return "Which sites got hotter, colder, bigger from A to B";
  }
  void Configure(CLI::App& app) override {
    app.add_option("a", a_, "Profile before")->required();
    app.add_option("b", b_, "Profile after")->required();
    app.add_option("--ratio", ratio_, "Change that counts (default 1.25: 25%)")
        ->check(CLI::Range(1.0, 1e9));
  }
  int Run() override {
    const auto a = analyzer::cli::LoadProfileOrThrow(a_);
    const auto b = analyzer::cli::LoadProfileOrThrow(b_);
    analyzer::WriteDiff(analyzer::DiffProfiles(a, b, ratio_), std::cout);
    return 0;
  }

 private:
  std::string a_, b_;
  double ratio_ = 1.25;
};

class ExportCommand : public Subcommand {
 public:
  const char* name() const override { return "export"; }
  const char* summary() const override { return "Write a profile for other tools (pprof)"; }
  void Configure(CLI::App& app) override {
    app.add_option("profile", path_, "Profile file")->required();
    app.add_option("--pprof", pprof_, "pprof profile.proto output (gzip'd)")->required();
  }
  int Run() override {
    const auto p = analyzer::cli::LoadProfileOrThrow(path_);
    RequireWritable(pprof_);
    formats::WritePprof(pprof_, analyzer::ToPprof(p));
    return 0;
  }

 private:
  std::string path_, pprof_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeMergeCommand() {
  return std::make_unique<MergeCommand>();
}
std::unique_ptr<Subcommand> MakeDiffCommand() {
  return std::make_unique<DiffCommand>();
}
std::unique_ptr<Subcommand> MakeExportCommand() {
  return std::make_unique<ExportCommand>();
}

}  // namespace tierscope::cli
