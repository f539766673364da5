// The analyzer's entry point for the CLI and the GUI: traces in, profile out.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "profile.pb.h"
#include "tierscope/analyzer/analysis_observer.h"
#include "tierscope/formats/container.h"

namespace tierscope::analyzer {

struct AnalyzeOptions {
  uint32_t site_depth = 0;     // frames that group allocations into a site; 0: the whole stack
  uint32_t target_bins = 200;  // time bins of Site.histogram (100-500 keeps the viewer readable)
  // Called now and then with the share of input read (0..1). May be empty.
  std::function<void(double)> progress;
  // Checked between chunks and events; when set the analysis stops with kCancelled.
  const std::atomic<bool>* cancel = nullptr;
  // Sees every block's lifetime and every sample in the same pass. May be null (then the join
  // does no more than the profile needs).
  AnalysisObserver* observer = nullptr;
  // Called once, after the first pass and before the join, with every distinct frame of the
  // trace's stacks as the profile will name it (module, build-id, offset): a symbolizer can look
  // them up on another thread while the join runs. May be empty.
  std::function<void(std::vector<profile::Location>)> on_frames;
  // Set while the work started by on_frames runs on a core of its own: on a machine of two cores
  // the join's second pass then reads its chunks itself instead of on a third thread
  // (join/chunk_source.h). May be null.
  const std::atomic<bool>* helper_busy = nullptr;
};

// What the join held and did, for tests and benchmarks: memory follows peak_decoded_events (32
// bytes each) and peak_live_blocks, not the trace's length.
struct JoinStats {
  uint64_t events = 0;               // joined in time order
  uint64_t chunk_reads = 0;          // chunks decoded by the second pass
  uint64_t peak_decoded_events = 0;  // most events decoded and waiting at one moment
  uint64_t peak_live_blocks = 0;     // most allocations (and mapping pieces) live at one moment
};

struct AnalyzeResult {
  profile::ProfileChunk profile;
  // Set when the trace was damaged: the profile then holds what the complete chunks gave.
  std::optional<formats::FormatError> error;
  bool cancelled = false;
  JoinStats join;
};

// Replays one trace: joins samples to the allocation live at their address and time, groups
// allocations into sites and computes each site's statistics. Never throws for a bad file.
AnalyzeResult AnalyzeTrace(const std::string& path, const AnalyzeOptions& options = {});

}  // namespace tierscope::analyzer
