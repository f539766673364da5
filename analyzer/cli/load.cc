#include "cli/load.h"

#include <unistd.h>

#include <cstdio>

#include "subcommand.h"
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

}  // namespace tierscope::analyzer::cli
