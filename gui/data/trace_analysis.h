// Opening a trace: the analyzer's AnalyzeTrace (the code behind `tierscope analyze`), then its
// Symbolizer, run on whatever thread calls it. The GUI calls it from a worker thread and passes
// a cancel flag and a progress callback; nothing here touches a widget.
#pragma once

#include <QString>
#include <atomic>
#include <functional>
#include <memory>

#include "data/profile_source.h"

namespace tierscope::gui {

struct TraceAnalysis {
  std::shared_ptr<const ProfileData> data;  // null on error or cancel
  // One line. With data set it is a warning: the trace was damaged and the profile holds what
  // the complete chunks before the damage gave.
  QString error;
  bool cancelled = false;
};

// Progress goes 0..1 over analysis, symbolization and binning the address map; `cancel` is
// polled between chunks. Never throws.
TraceAnalysis AnalyzeTraceFile(const QString& path, const std::atomic<bool>* cancel,
                               const std::function<void(double)>& progress);

}  // namespace tierscope::gui
