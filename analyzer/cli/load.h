// Shared by the analyzer's subcommands: loading profiles with CLI errors, progress on stderr.
#pragma once

#include <string>

#include "profile.pb.h"

namespace tierscope::analyzer::cli {

// Reads a whole profile; a damaged or wrong file is a RunError (exit 1), a missing one a
// UsageError (exit 2), each one line naming the file.
profile::ProfileChunk LoadProfileOrThrow(const std::string& path);

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
