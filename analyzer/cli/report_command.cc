// `tierscope report PROFILE [--format text|json|csv] [--top N]`
#include <iostream>

#include "cli/load.h"
#include "tierscope/analyzer/report.h"
#include "tierscope/cli/subcommands.h"

namespace tierscope::cli {
namespace {

class ReportCommand : public Subcommand {
 public:
  const char* name() const override { return "report"; }
  const char* summary() const override { return "Table of a profile's hottest sites"; }
  void Configure(CLI::App& app) override {
    app.add_option("profile", path_, "Profile file")->required();
    app.add_option("--format", format_, "text, json or csv")
        ->check(CLI::IsMember({"text", "json", "csv"}));
    app.add_option("--top", top_, "Sites shown (0: all)")->check(CLI::Range(size_t{0}, SIZE_MAX));
  }
  int Run() override {
    const auto p = analyzer::cli::LoadProfileOrThrow(path_);
    if (format_ == "json") {
      analyzer::WriteJsonReport(p, top_, std::cout);
    } else if (format_ == "csv") {
      analyzer::WriteCsvReport(p, top_, std::cout);
    } else {
      analyzer::WriteTextReport(p, top_, std::cout);
    }
    return 0;
  }

 private:
  std::string path_, format_ = "text";
  size_t top_ = 20;
};

}  // namespace

std::unique_ptr<Subcommand> MakeReportCommand() {
  return std::make_unique<ReportCommand>();
}

}  // namespace tierscope::cli
