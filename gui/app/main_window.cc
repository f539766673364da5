#include "app/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTextBrowser>
#include <QVBoxLayout>
#include <iterator>

#include "app/recent_files.h"
#include "app/trace_loader.h"
#include "data/summary.h"
#include "models/sites_model.h"
#include "widgets/address_map_widget.h"
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
      what_if_(new WhatIfPanel(this)),
      address_page_(new QWidget(this)),
      address_map_(new AddressMapWidget(address_page_)),
      address_log_scale_(new QCheckBox(QStringLiteral("L&ogarithmic colour scale"), address_page_)),
      loader_(new TraceLoader(this)),
      progress_(new QProgressBar(this)),
      cancel_(new QPushButton(QStringLiteral("Cancel"), this)) {
  setWindowTitle(QStringLiteral("tierscope"));
  setAcceptDrops(true);

  summary_->setOpenLinks(false);
  summary_->setPlaceholderText(
      QStringLiteral("Open a profile or a trace: File → Open (Ctrl+O), a recent file, or drop one "
                     "here."));
  log_scale_->setChecked(heat_map_->log_scale());
  connect(log_scale_, &QCheckBox::toggled, heat_map_, &HeatMapWidget::SetLogScale);
  auto* heat_layout = new QVBoxLayout(heat_page_);
  heat_layout->addWidget(log_scale_);
  heat_layout->addWidget(heat_map_, 1);

  address_log_scale_->setChecked(address_map_->log_scale());
  connect(address_log_scale_, &QCheckBox::toggled, address_map_, &AddressMapWidget::SetLogScale);
  auto* address_layout = new QVBoxLayout(address_page_);
  auto* address_bar = new QHBoxLayout;
  address_bar->addWidget(address_log_scale_);
  address_bar->addStretch(1);
  address_bar->addWidget(new QLabel(
      QStringLiteral("Wheel: zoom addresses · Ctrl+wheel: time · drag: pan · double-click: reset"),
      address_page_));
  address_layout->addLayout(address_bar);
  address_layout->addWidget(address_map_, 1);

  // Alt+1..6 reach the tabs from the keyboard (Ctrl+Tab cycles them, as in every QTabWidget).
  tabs_->addTab(summary_, QStringLiteral("&1 Summary"));
  tabs_->addTab(sites_, QStringLiteral("&2 Sites"));
  tabs_->addTab(call_tree_, QStringLiteral("&3 Call tree && flame graph"));
  tabs_->addTab(heat_page_, QStringLiteral("&4 Heat map"));
  tabs_->addTab(what_if_, QStringLiteral("&5 What-if plan"));
  tabs_->addTab(address_page_, QStringLiteral("&6 Address map"));
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

  // The what-if's replay on another run's trace, from the menu too: shows the tab, then asks.
  QMenu* what_if_menu = menuBar()->addMenu(QStringLiteral("&What-if"));
  QAction* replay = what_if_menu->addAction(what_if_->replay_action()->text(), this, [this] {
    tabs_->setCurrentWidget(what_if_);
    what_if_->replay_action()->trigger();
  });
  replay->setToolTip(what_if_->replay_action()->toolTip());
  replay->setEnabled(what_if_->replay_action()->isEnabled());
  connect(what_if_->replay_action(), &QAction::enabledChanged, replay, &QAction::setEnabled);

  // The analysis of a trace: progress and Cancel live in the status bar, hidden when idle.
  progress_->setRange(0, 1000);
  progress_->setMaximumWidth(240);
  progress_->setObjectName(QStringLiteral("analysisProgress"));
  cancel_->setObjectName(QStringLiteral("cancelAnalysis"));
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(cancel_);
  progress_->hide();
  cancel_->hide();
  connect(cancel_, &QPushButton::clicked, loader_, &TraceLoader::Cancel);
  connect(loader_, &TraceLoader::Progress, progress_, &QProgressBar::setValue);
  connect(loader_, &TraceLoader::Finished, this, &MainWindow::TraceFinished);
  // A what-if plan shows in the sites' tier column and the summary; the other views do not
  // depend on the plan.
  connect(what_if_, &WhatIfPanel::PlanChanged, this,
          [this](std::shared_ptr<const ProfileData> planned) {
            sites_->model()->UpdatePlan(planned);
            summary_->setHtml(SummaryHtml(*planned));
          });

  RefreshRecentMenu();
  statusBar()->showMessage(QStringLiteral("No profile open"));
  resize(1280, 800);
}

bool MainWindow::OpenFile(const QString& path) {
  formats::FileKind kind;
  QString error;
  if (!ProfileSource::KindOf(path, &kind, &error)) {
    ShowError(error);
    emit LoadFinished(false);
    return false;
  }
  if (kind == formats::FileKind::kTrace) {
    loader_->Start(path);
    progress_->show();
    cancel_->show();
    statusBar()->showMessage(QStringLiteral("Analyzing %1…").arg(path));
    return true;
  }
  LoadResult result = ProfileSource::Open(path);
  if (!result.data) {
    ShowError(result.error);
    emit LoadFinished(false);
    return false;
  }
  // The newest open wins: a trace still being analyzed must not replace this profile later.
  if (loader_->busy()) loader_->Cancel();
  RecentFiles::Add(path);
  RefreshRecentMenu();
  ShowData(std::move(result.data));
  emit LoadFinished(true);
  return true;
}

void MainWindow::TraceFinished(const TraceAnalysis& result) {
  progress_->hide();
  cancel_->hide();
  if (result.cancelled) {
    // Whatever was shown before stays; the window is as it was before the open.
    statusBar()->showMessage(QStringLiteral("Analysis of %1 cancelled").arg(loader_->path()));
    emit LoadFinished(false);
    return;
  }
  if (!result.data) {
    ShowError(result.error);
    emit LoadFinished(false);
    return;
  }
  RecentFiles::Add(loader_->path());
  RefreshRecentMenu();
  // The what-if replays the trace it was analyzed from (in-sample) until another is picked.
  ShowData(result.data, loader_->path());
  // A damaged trace still shows what its complete chunks gave, and says so.
  if (!result.error.isEmpty()) ShowError(result.error, QStringLiteral("Trace damaged"));
  emit LoadFinished(true);
}

void MainWindow::ShowData(std::shared_ptr<const ProfileData> data, const QString& trace) {
  data_ = std::move(data);
  summary_->setHtml(SummaryHtml(*data_));
  sites_->SetData(data_);
  call_tree_->SetData(data_);
  heat_map_->SetData(data_);
  what_if_->SetData(data_, trace);
  address_map_->SetData(data_);
  setWindowTitle(QStringLiteral("%1 — tierscope").arg(QFileInfo(data_->path).fileName()));
  statusBar()->showMessage(
      QStringLiteral("%1: %2 sites").arg(data_->path).arg(data_->profile.sites_size()));
}

void MainWindow::ShowError(const QString& message, const QString& title) {
  last_error_ = message;
  // open(), not exec(): the window keeps repainting and tests can find and close the box.
  auto* box = new QMessageBox(QMessageBox::Critical, title, message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setObjectName(QStringLiteral("openError"));
  box->open();
  statusBar()->showMessage(message);
}

void MainWindow::ChooseFile() {
  const QString start = RecentFiles::Load().value(0);
  const QString path = QFileDialog::getOpenFileName(
      this, QStringLiteral("Open profile or trace"),
      start.isEmpty() ? QDir::currentPath() : QFileInfo(start).path(),
      QStringLiteral("tierscope files (*.tsprof *.profile *.tsp *.trace);;All files (*)"));
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
  static const char* kNames[] = {"summary",  "sites",   "call-tree",
                                 "heat-map", "what-if", "address-map"};
  QDir().mkpath(dir);
  // The what-if tab shows its plan (and, with a trace, its replay) rather than "Planning…", unless
  // planning is slow: the analyzer's greedy planner takes tens of seconds on 100k sites, and then
  // the picture says so.
  if (data_ && data_->profile.sites_size() <= kFlushPlanSites) what_if_->Flush();
  QStringList written;
  for (int i = 0; i < tabs_->count() && i < int(std::size(kNames)); ++i) {
    tabs_->setCurrentIndex(i);
    QApplication::processEvents();  // let the tab lay out before it is grabbed
    const QString path = QDir(dir).filePath(QStringLiteral("%1.png").arg(kNames[i]));
    if (grab().save(path)) written << path;
  }
  tabs_->setCurrentIndex(0);
  return written;
}

}  // namespace tierscope::gui
