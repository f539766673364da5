// The main window: one tab per view, File menu (open, recent files, quit), drag and drop.
// Errors go to a window-modal message box that never blocks the event loop.
#pragma once

#include <QMainWindow>
#include <memory>

#include "data/profile_source.h"

class QMenu;
class QTabWidget;
class QTextBrowser;
class QCheckBox;

namespace tierscope::gui {

class CallTreeView;
class HeatMapWidget;
class SitesView;
class WhatIfPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

  // Loads `path` and shows it; on failure shows the error dialog and keeps what was shown.
  bool OpenFile(const QString& path);
  // Renders every tab into DIR/<tab>.png with QWidget::grab(); returns the files written.
  QStringList SaveScreenshots(const QString& dir);

  QTabWidget* tabs() const { return tabs_; }
  SitesView* sites_view() const { return sites_; }
  CallTreeView* call_tree_view() const { return call_tree_; }
  HeatMapWidget* heat_map() const { return heat_map_; }
  WhatIfPanel* what_if() const { return what_if_; }
  QTextBrowser* summary() const { return summary_; }
  const QString& last_error() const { return last_error_; }
  const ProfileData* profile_data() const { return data_.get(); }

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void ShowData(std::shared_ptr<const ProfileData> data);
  void ShowError(const QString& message);
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
  QMenu* recent_menu_;
};

}  // namespace tierscope::gui
