// Opening a trace: the analyzer's AnalyzeTrace (the code behind `tierscope analyze`) with the
// address map built in the same pass, then its Symbolizer, run on whatever thread calls it. The GUI
// calls it from a worker thread and passes a cancel flag and a progress callback; nothing here
// touches a widget.
#pragma once

#include <QString>
#include <atomic>
#include <functional>
#include <memory>

#include "data/address_map.h"
#include "data/profile_source.h"

namespace tierscope::gui {

struct TraceAnalysis {
  std::shared_ptr<const ProfileData> data;  // null on error or cancel
  // One line. With data set it is a warning: the trace was damaged and the profile holds what
  // the complete chunks before the damage gave.
  QString error;
  bool cancelled = false;
};

// Progress goes 0..1 over the analysis (which bins the address map as it goes) and
// symbolization; `cancel` is polled between chunks. Never throws.
TraceAnalysis AnalyzeTraceFile(const QString& path, const std::atomic<bool>* cancel,
                               const std::function<void(double)>& progress,
                               const AddressMapOptions& map_options = {});

}  // namespace tierscope::gui
