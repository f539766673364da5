// Symbolization beside the join: the join's first pass knows every stack of a trace
// (AnalyzeOptions::on_frames), so a second thread looks their frames up while the join runs, and
// the profile is named from the symbolizer's cache at the end. The same profile as symbolizing
// after the join, in less wall time (docs/benchmarks.md, "Symbolization beside the join").
// Used by `tierscope analyze` and the viewer.
#pragma once

#include <atomic>
#include <thread>

#include "tierscope/analyzer/analyze.h"
#include "tierscope/analyzer/symbolize.h"

namespace tierscope::analyzer {

class SymbolizeBesideJoin {
 public:
  explicit SymbolizeBesideJoin(SymbolizeOptions options) : symbolizer_(std::move(options)) {}
  SymbolizeBesideJoin(const SymbolizeBesideJoin&) = delete;
  SymbolizeBesideJoin& operator=(const SymbolizeBesideJoin&) = delete;

  // Hooks `options` (used for one trace after another): each trace's frames are looked up on the
  // second thread, one trace at a time. This object must outlive the AnalyzeTrace calls.
  void Attach(AnalyzeOptions* options);
  // Waits for the look-ups, then names every location of `profile`; returns how many got a
  // function name.
  size_t SymbolizeProfile(profile::ProfileChunk* profile);
  const std::set<std::string>& other_builds() const { return symbolizer_.other_builds(); }

 private:
  Symbolizer symbolizer_;
  std::atomic<bool> busy_{false};  // the look-ups are running (AnalyzeOptions::helper_busy)
  std::jthread preparing_;  // declared last: joined (asked to stop) before the symbolizer goes
};

}  // namespace tierscope::analyzer
