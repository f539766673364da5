#include <iostream>

#include "tierscope/cli/subcommands.h"
#include "tierscope/formats/dump.h"

namespace tierscope::cli {
namespace {

class DumpCommand : public Subcommand {
 public:
  const char* name() const override { return "dump"; }
  const char* summary() const override {
    return "Print any tierscope file (trace or profile): header, chunks, messages";
  }
  void Configure(CLI::App& app) override {
    app.add_option("file", path_, "Trace or profile file")->required();
    app.add_flag("--chunks", options_.chunks_only, "List the chunks only");
    app.add_option("--max-events", options_.max_events, "Events shown per batch (-1: all)")
        ->check(CLI::Range(int64_t{-1}, INT64_MAX));
  }
  int Run() override {
    RequireReadable(path_);
    auto error = formats::DumpFile(path_, std::cout, options_);
    std::cout.flush();
    if (!error) return 0;
    if (error->kind == formats::FormatError::Kind::kIo) throw UsageError(error->Message());
    throw RunError(error->Message());
  }

 private:
  std::string path_;
  formats::DumpOptions options_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeDumpCommand() {
  return std::make_unique<DumpCommand>();
}

}  // namespace tierscope::cli
