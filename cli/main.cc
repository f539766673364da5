// `tierscope`: one binary, one subcommand per step of the data flow (like perf or git).
#include <google/protobuf/stubs/common.h>

#include <iostream>
#include <vector>

#include "tierscope/cli/subcommands.h"
#include "tierscope/formats/container.h"

#ifndef TIERSCOPE_VERSION
#define TIERSCOPE_VERSION "unknown"
#endif

// jemalloc's options for the CLI's own heap (jemalloc reads this symbol at its start). The
// analyzer's tables grow by hundreds of MB, and each 4 KiB page of them faulted in on its own:
// 82k faults in an `analyze` of a 7.7M-event trace, a fifth of its time in a VM (perf). Huge
// pages where the system allows them on request take 1/500 of those faults. The programs that
// `record` and `run` start are other images: this does not reach them.
extern "C" const char* malloc_conf = "thp:always,metadata_thp:auto";

namespace {

int Fail(const std::string& message, int status) {
  std::cerr << "tierscope: error: " << message << "\n";
  return status;
}

bool IsSubcommand(const std::vector<std::unique_ptr<tierscope::cli::Subcommand>>& commands,
                  const std::string& name) {
  for (const auto& c : commands) {
    if (name == c->name()) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tierscope::cli;
  CLI::App app{"tierscope: find where a program's memory is hot and place it on the right tier",
               "tierscope"};
  app.set_version_flag("--version", std::string("tierscope ") + TIERSCOPE_VERSION);
  app.require_subcommand(1, 1);
  app.fallthrough(false);
  app.footer("Run 'tierscope SUBCOMMAND --help' for the flags of one subcommand.");

  std::vector<std::unique_ptr<Subcommand>> commands;
  commands.push_back(MakeDumpCommand());
  commands.push_back(MakeRecordCommand());
  commands.push_back(MakeAnalyzeCommand());
  commands.push_back(MakeReportCommand());
  commands.push_back(MakePlanCommand());
  commands.push_back(MakeEvaluateCommand());
  commands.push_back(MakeMergeCommand());
  commands.push_back(MakeDiffCommand());
  commands.push_back(MakeExportCommand());
  commands.push_back(MakeRunCommand());
  commands.push_back(MakeTopologyCommand());

  std::vector<std::pair<CLI::App*, Subcommand*>> registered;
  for (auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command->name(), command->summary());
    command->Configure(*sub);
    registered.emplace_back(sub, command.get());
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (argc > 1 && argv[1][0] != '-' && !IsSubcommand(commands, argv[1])) {
      what = std::string("unknown subcommand '") + argv[1] + "' (see 'tierscope --help')";
    }
    return Fail(what, 2);
  }

  for (auto& [sub, command] : registered) {
    if (!sub->parsed()) continue;
    try {
      return command->Run();
    } catch (const UsageError& e) {
      return Fail(e.what(), 2);
    } catch (const RunError& e) {
      return Fail(e.what(), 1);
    } catch (const tierscope::formats::FormatException& e) {
      return Fail(e.what(), e.error().kind == tierscope::formats::FormatError::Kind::kIo ? 2 : 1);
    } catch (const std::exception& e) {
      return Fail(e.what(), 1);
    }
  }
  return Fail("no subcommand given (see 'tierscope --help')", 2);
}
