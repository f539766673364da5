#include "data/trace_analysis.h"

#include <exception>

#include "data/address_map.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/analyzer/symbolize_beside_join.h"

namespace tierscope::gui {

namespace {
// Share of the progress bar the analyzer's pass takes (the address map is binned in it); the
// symbolizer has the rest.
constexpr double kAnalyzeShare = 0.95;
}  // namespace

TraceAnalysis AnalyzeTraceFile(const QString& path, const std::atomic<bool>* cancel,
                               const std::function<void(double)>& progress,
                               const AddressMapOptions& map_options) {
  auto report = [&](double share) {
    if (progress) progress(share);
  };
  auto cancelled = [&] { return cancel && cancel->load(std::memory_order_relaxed); };
  TraceAnalysis out;
  try {
    AddressMapBuilder map(map_options);
    // Same defaults as `tierscope analyze` without --debug-dir/--sysroot.
    analyzer::SymbolizeBesideJoin symbolizer(analyzer::SymbolizeOptions{});
    analyzer::AnalyzeOptions options;
    symbolizer.Attach(&options);
    options.cancel = cancel;
    options.observer = &map;
    options.progress = [&](double share) { report(share * kAnalyzeShare); };
    analyzer::AnalyzeResult result = analyzer::AnalyzeTrace(path.toStdString(), options);
    if (result.cancelled || cancelled()) {
      out.cancelled = true;
      return out;
    }
    if (result.error) {
      out.error = QString::fromStdString(result.error->Message());
      // A bad header, an unreadable file or damage before any site leaves nothing to show.
      if (!result.error->KeepsEarlierChunks() || result.profile.sites_size() == 0) return out;
      out.error += QStringLiteral(" (showing what the complete chunks before it gave)");
    }
    symbolizer.SymbolizeProfile(&result.profile);
    if (cancelled()) {
      out.cancelled = true;
      return out;
    }
    report(1.0);
    auto data = ProfileSource::FromProfile(std::move(result.profile), path);
    data->address_map = std::make_shared<const AddressMapData>(map.Finish());
    out.data = std::move(data);
  } catch (const std::exception& e) {
    // AnalyzeTrace promises not to throw for bad files; anything else (memory) still must not
    // take the window down.
    out.data.reset();
    out.error = QStringLiteral("%1: %2").arg(path, QString::fromUtf8(e.what()));
  }
  return out;
}

}  // namespace tierscope::gui
