// Every subcommand of `tierscope`, one factory each; main.cc registers them in this order.
#pragma once

#include <memory>

#include "tierscope/cli/subcommand.h"

namespace tierscope::cli {

std::unique_ptr<Subcommand> MakeDumpCommand();
std::unique_ptr<Subcommand> MakeRecordCommand();
std::unique_ptr<Subcommand> MakeAnalyzeCommand();
std::unique_ptr<Subcommand> MakeReportCommand();
std::unique_ptr<Subcommand> MakePlanCommand();
std::unique_ptr<Subcommand> MakeEvaluateCommand();
std::unique_ptr<Subcommand> MakeMergeCommand();
std::unique_ptr<Subcommand> MakeDiffCommand();
std::unique_ptr<Subcommand> MakeExportCommand();
std::unique_ptr<Subcommand> MakeRunCommand();
std::unique_ptr<Subcommand> MakeTopologyCommand();

}  // namespace tierscope::cli
