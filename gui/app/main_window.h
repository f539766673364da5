// The main window: one tab per view, File menu (open, recent files, quit), drag and drop.
// Profiles open at once; traces are analyzed on a worker thread (TraceLoader) with a progress bar
// and a Cancel button in the status bar. Errors go to a window-modal message box that never
// blocks the event loop.
#pragma once

#include <QMainWindow>
#include <memory>

#include "data/profile_source.h"

class QMenu;
class QTabWidget;
class QTextBrowser;
class QCheckBox;
class QProgressBar;
class QPushButton;

namespace tierscope::gui {

class AddressMapWidget;
class CallTreeView;
class HeatMapWidget;
class SitesView;
class TraceLoader;
class WhatIfPanel;
struct TraceAnalysis;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  // SaveScreenshots waits for the what-if plan of profiles up to this many sites.
  static constexpr int kFlushPlanSites = 10000;

  explicit MainWindow(QWidget* parent = nullptr);

  // Opens `path`: a profile is loaded and shown now; a trace starts a background analysis and
  // is shown when it ends. False (error dialog, what was shown stays) when the file cannot be
  // opened now; LoadFinished reports every outcome, including a trace's.
  bool OpenFile(const QString& path);
  // Renders every tab into DIR/<tab>.png with QWidget::grab(); returns the files written.
  QStringList SaveScreenshots(const QString& dir);

  QTabWidget* tabs() const { return tabs_; }
  SitesView* sites_view() const { return sites_; }
  CallTreeView* call_tree_view() const { return call_tree_; }
  HeatMapWidget* heat_map() const { return heat_map_; }
  WhatIfPanel* what_if() const { return what_if_; }
  AddressMapWidget* address_map() const { return address_map_; }
  QTextBrowser* summary() const { return summary_; }
  const QString& last_error() const { return last_error_; }
  const ProfileData* profile_data() const { return data_.get(); }
  TraceLoader* loader() const { return loader_; }
  QProgressBar* progress_bar() const { return progress_; }
  QPushButton* cancel_button() const { return cancel_; }

 signals:
  // After every open: ok false for errors and cancelled analyses.
  void LoadFinished(bool ok);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  // `trace`: the trace `data` was analyzed from ("" for a profile), replayed by the what-if.
  void ShowData(std::shared_ptr<const ProfileData> data, const QString& trace = {});
  void ShowError(const QString& message, const QString& title = QStringLiteral("Cannot open file"));
  void TraceFinished(const TraceAnalysis& result);
  void ChooseFile();
  void RefreshRecentMenu();

  std::shared_ptr<const ProfileData> data_;
  QString last_error_;
  QTabWidget* tabs_;
  QTextBrowser* summary_;
  SitesView* sites_;
  CallTreeView* call_tree_;
  QWidget* heat_page_;
  HeatMapWidget* heat_map_;
  QCheckBox* log_scale_;
  WhatIfPanel* what_if_;
  QWidget* address_page_;
  AddressMapWidget* address_map_;
  QCheckBox* address_log_scale_;
  QMenu* recent_menu_;
  TraceLoader* loader_;
  QProgressBar* progress_;
  QPushButton* cancel_;
};

}  // namespace tierscope::gui
