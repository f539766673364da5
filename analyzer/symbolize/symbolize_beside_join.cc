#include "tierscope/analyzer/symbolize_beside_join.h"

namespace tierscope::analyzer {

void SymbolizeBesideJoin::Attach(AnalyzeOptions* options) {
  options->helper_busy = &busy_;
  options->on_frames = [this](std::vector<profile::Location> frames) {
    if (preparing_.joinable()) preparing_.join();
    busy_.store(true);
    preparing_ = std::jthread([this, frames = std::move(frames)](std::stop_token stop) {
      try {
        symbolizer_.Prepare(frames, stop);
      } catch (...) {  // only a head start: SymbolizeProfile looks up what is not there
      }
      busy_.store(false);
    });
  };
}

size_t SymbolizeBesideJoin::SymbolizeProfile(profile::ProfileChunk* profile) {
  if (preparing_.joinable()) preparing_.join();
  return symbolizer_.SymbolizeProfile(profile);
}

}  // namespace tierscope::analyzer
