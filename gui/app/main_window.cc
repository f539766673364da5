#include "app/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "app/recent_files.h"
#include "data/summary.h"
#include "widgets/call_tree_view.h"
#include "widgets/heat_map_widget.h"
#include "widgets/sites_view.h"
#include "widgets/what_if_panel.h"

namespace tierscope::gui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      tabs_(new QTabWidget(this)),
      summary_(new QTextBrowser(this)),
      sites_(new SitesView(this)),
      call_tree_(new CallTreeView(this)),
      heat_page_(new QWidget(this)),
      heat_map_(new HeatMapWidget(heat_page_)),
      log_scale_(new QCheckBox(QStringLiteral("&Logarithmic colour scale"), heat_page_)),
      what_if_(new WhatIfPanel(this)) {
  setWindowTitle(QStringLiteral("tierscope"));
  setAcceptDrops(true);

  summary_->setOpenLinks(false);
  summary_->setPlaceholderText(
      QStringLiteral("Open a profile: File → Open (Ctrl+O), a recent file, or drop one here."));
  log_scale_->setChecked(heat_map_->log_scale());
  connect(log_scale_, &QCheckBox::toggled, heat_map_, &HeatMapWidget::SetLogScale);
  auto* heat_layout = new QVBoxLayout(heat_page_);
  heat_layout->addWidget(log_scale_);
  heat_layout->addWidget(heat_map_, 1);

  // Alt+1..5 reach the tabs from the keyboard (Ctrl+Tab cycles them, as in every QTabWidget).
  tabs_->addTab(summary_, QStringLiteral("&1 Summary"));
  tabs_->addTab(sites_, QStringLiteral("&2 Sites"));
  tabs_->addTab(call_tree_, QStringLiteral("&3 Call tree && flame graph"));
  tabs_->addTab(heat_page_, QStringLiteral("&4 Heat map"));
  tabs_->addTab(what_if_, QStringLiteral("&5 What-if plan"));
  setCentralWidget(tabs_);

  QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
  QAction* open = file->addAction(QStringLiteral("&Open…"), this, &MainWindow::ChooseFile);
  open->setShortcut(QKeySequence::Open);
  recent_menu_ = file->addMenu(QStringLiteral("Open &Recent"));
  file->addSeparator();
  QAction* quit = file->addAction(QStringLiteral("&Quit"), qApp, &QApplication::quit);
  quit->setShortcut(QKeySequence::Quit);

  QMenu* view = menuBar()->addMenu(QStringLiteral("&View"));
  QAction* find = view->addAction(QStringLiteral("&Find site"), this, [this] {
    tabs_->setCurrentWidget(sites_);
    sites_->filter_edit()->setFocus();
    sites_->filter_edit()->selectAll();
  });
  find->setShortcut(QKeySequence::Find);

  RefreshRecentMenu();
  statusBar()->showMessage(QStringLiteral("No profile open"));
  resize(1280, 800);
}

bool MainWindow::OpenFile(const QString& path) {
  LoadResult result = ProfileSource::Open(path);
  if (!result.data) {
    ShowError(result.error);
    return false;
  }
  RecentFiles::Add(path);
  RefreshRecentMenu();
  ShowData(std::move(result.data));
  return true;
}

void MainWindow::ShowData(std::shared_ptr<const ProfileData> data) {
  data_ = std::move(data);
  summary_->setHtml(SummaryHtml(*data_));
  sites_->SetData(data_);
  call_tree_->SetData(data_);
  heat_map_->SetData(data_);
  what_if_->SetData(data_);
  setWindowTitle(QStringLiteral("%1 — tierscope").arg(QFileInfo(data_->path).fileName()));
  statusBar()->showMessage(
      QStringLiteral("%1: %2 sites").arg(data_->path).arg(data_->profile.sites_size()));
}

void MainWindow::ShowError(const QString& message) {
  last_error_ = message;
  // open(), not exec(): the window keeps repainting and tests can find and close the box.
  auto* box = new QMessageBox(QMessageBox::Critical, QStringLiteral("Cannot open file"), message,
                              QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setObjectName(QStringLiteral("openError"));
  box->open();
  statusBar()->showMessage(message);
}

void MainWindow::ChooseFile() {
  const QString start = RecentFiles::Load().value(0);
  const QString path = QFileDialog::getOpenFileName(
      this, QStringLiteral("Open profile"),
      start.isEmpty() ? QDir::currentPath() : QFileInfo(start).path(),
      QStringLiteral("tierscope profiles (*.tsprof *.profile *.tsp);;All files (*)"));
  if (!path.isEmpty()) OpenFile(path);
}

void MainWindow::RefreshRecentMenu() {
  recent_menu_->clear();
  const QStringList files = RecentFiles::Load();
  for (const QString& path : files)
    recent_menu_->addAction(path, this, [this, path] { OpenFile(path); });
  recent_menu_->setEnabled(!files.isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls() && event->mimeData()->urls().value(0).isLocalFile())
    event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  const QList<QUrl> urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls[0].isLocalFile()) return;
  event->acceptProposedAction();
  OpenFile(urls[0].toLocalFile());
}

QStringList MainWindow::SaveScreenshots(const QString& dir) {
  static const char* kNames[] = {"summary", "sites", "call-tree", "heat-map", "what-if"};
  QDir().mkpath(dir);
  QStringList written;
  for (int i = 0; i < tabs_->count() && i < 5; ++i) {
    tabs_->setCurrentIndex(i);
    QApplication::processEvents();  // let the tab lay out before it is grabbed
    const QString path = QDir(dir).filePath(QStringLiteral("%1.png").arg(kNames[i]));
    if (grab().save(path)) written << path;
  }
  tabs_->setCurrentIndex(0);
  return written;
}

}  // namespace tierscope::gui
