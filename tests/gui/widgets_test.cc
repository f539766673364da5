// The main window and its widgets under the offscreen platform: opening, errors, drag and drop,
// recent files, the sites tab, flame graph zoom and search, heat map painting.
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>
#include <set>

#include "app/main_window.h"
#include "app/recent_files.h"
#include "image_checks.h"
#include "models/call_tree_model.h"
#include "models/sites_filter_model.h"
#include "profile_generator.h"
#include "tierscope/formats/profile_io.h"
#include "widgets/call_tree_view.h"
#include "widgets/flame_graph_widget.h"
#include "widgets/heat_map_widget.h"
#include "widgets/lifetime_chart.h"
#include "widgets/sites_view.h"
#include "widgets/what_if_panel.h"

using namespace tierscope;
using namespace tierscope::gui;

class WidgetsTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString kv_path_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QCoreApplication::setOrganizationName("tierscope-test");
    QCoreApplication::setApplicationName("widgets-test");
    kv_path_ = dir_.filePath("kv.tsprof");
    formats::WriteProfile(kv_path_.toStdString(), testing::MakeKvcacheProfile());
  }

  void OpenShowsEveryView() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(kv_path_));
    QVERIFY(window.summary()->toPlainText().contains("lab-host"));
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 8);
    // The table opens sorted hottest first, with the hottest site selected and its stack shown.
    QCOMPARE(window.sites_view()->proxy()->index(0, 0).data().toString(),
             QStringLiteral("kv_alloc_index"));
    QVERIFY(window.sites_view()->stack_view()->toPlainText().contains("Cache::Cache"));
    QCOMPARE(window.call_tree_view()->model()->rowCount(), 2);
    QCOMPARE(int(window.heat_map()->map().rows.size()), 8);
    window.what_if()->Flush();  // the what-if plans on a worker thread
    QCOMPARE(window.what_if()->plan_table()->rowCount(), 5);  // what-if, 3 baselines, stored
    QVERIFY(window.windowTitle().contains("kv.tsprof"));
    QCOMPARE(RecentFiles::Load().value(0), QFileInfo(kv_path_).absoluteFilePath());
  }

  void CorruptFileGivesAnErrorDialogAndKeepsTheView() {
    const QString bad = dir_.filePath("bad.tsprof");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray("TIERSCOP\x01\x00\x00\x00\x02\x00\x00\x00garbage garbage", 31));
    f.close();

    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(kv_path_));
    QVERIFY(!window.OpenFile(bad));
    auto* box = window.findChild<QMessageBox*>("openError");
    QVERIFY(box);
    QVERIFY(box->isVisible());
    QVERIFY2(box->text().startsWith(bad), qPrintable(box->text()));
    QCOMPARE(box->text(), window.last_error());
    box->accept();
    // What was shown before is still shown, and the window still answers.
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 8);
    QCOMPARE(RecentFiles::Load().value(0), QFileInfo(kv_path_).absoluteFilePath());
  }

  void DropOpensTheFile() {
    MainWindow window;
    window.show();
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(kv_path_)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &drop);
    QVERIFY(window.profile_data());
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 8);
  }

  void TypingInTheFilterNarrowsTheTable() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(kv_path_));
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    // Ctrl+F jumps to the filter from anywhere.
    window.tabs()->setCurrentIndex(0);
    QTest::keyClick(&window, Qt::Key_F, Qt::ControlModifier);
    QCOMPARE(window.tabs()->currentWidget(), static_cast<QWidget*>(window.sites_view()));
    QTest::keyClicks(window.sites_view()->filter_edit(), "archive");
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 1);
    QTableView* table = window.sites_view()->table();
    table->setFocus();
    table->setCurrentIndex(table->model()->index(0, 0));
    QVERIFY(window.sites_view()->stack_view()->toPlainText().contains("Cache::Archive"));
    QVERIFY(window.sites_view()->lifetime_chart()->counts().isEmpty());  // never freed

    // The value site's lifetimes: buckets 18..22 of the generated profile, 40001 each.
    window.sites_view()->filter_edit()->setText("kv_alloc_value");
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 1);
    table->setCurrentIndex(table->model()->index(0, 0));
    LifetimeChart* chart = window.sites_view()->lifetime_chart();
    QCOMPARE(chart->first_bucket(), 18);
    QCOMPARE(chart->counts(), QList<qreal>({40001, 40001, 40001, 40001, 40001}));
  }

  void FlameGraphZoomsAndSearches() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(kv_path_));
    window.tabs()->setCurrentWidget(window.call_tree_view());
    window.call_tree_view()->SetDirection(Direction::kBottomUp);
    FlameGraphWidget* flame = window.call_tree_view()->flame_graph();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QImage image = flame->grab().toImage();
    QVERIFY(DistinctColours(image) > 10);
    CallNode* root = flame->zoom_root();
    QVERIFY(root && !root->parent);

    // The first box under the root is the biggest allocator: click it, it fills the width.
    const QPoint first_child(5, 30);
    CallNode* node = flame->NodeAtPoint(first_child);
    QVERIFY(node);
    QCOMPARE(node->frame, QStringLiteral("kv_alloc_value"));
    QTest::mouseClick(flame, Qt::LeftButton, Qt::NoModifier, first_child);
    QCOMPARE(flame->zoom_root(), node);
    flame->grab();
    QCOMPARE(flame->NodeAtPoint(QPoint(flame->width() - 5, 10)), node);
    QTest::keyClick(flame, Qt::Key_Escape);
    QCOMPARE(flame->zoom_root(), root);

    QTest::keyClicks(window.call_tree_view()->search_edit(), "Cache::");
    flame->grab();
    QVERIFY(flame->search_matches() >= 4);
    window.call_tree_view()->search_edit()->setText("no such frame");
    flame->grab();
    QCOMPARE(flame->search_matches(), 0);
  }

  void HeatMapPaintsHottestOnTop() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(kv_path_));
    window.tabs()->setCurrentIndex(3);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QVERIFY(window.heat_map()->map().max_cell > 0);
    HeatMapWidget* map = window.heat_map();
    QVERIFY(map->height() > 200);
    const QImage log_image = map->grab().toImage();
    QVERIFY(DistinctColours(log_image) > 20);
    int row, bin;
    // A point in the top row of the map belongs to the hottest site.
    QVERIFY(map->CellAt(QPoint(map->width() / 2, 12), &row, &bin));
    QCOMPARE(row, 0);
    map->SetLogScale(false);
    const QImage linear_image = map->grab().toImage();
    QVERIFY(log_image != linear_image);
  }

  void PaintedViewsFollowThePalette() {
    // A dark system palette reaches the custom-painted widgets through QPalette::Base.
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(kv_path_));
    QPalette dark;
    dark.setColor(QPalette::Base, QColor(30, 30, 34));
    dark.setColor(QPalette::Text, QColor(230, 230, 230));
    window.setPalette(dark);
    window.tabs()->setCurrentIndex(3);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QImage heat = window.heat_map()->grab().toImage();
    QCOMPARE(heat.pixelColor(2, 2), QColor(30, 30, 34));
    window.tabs()->setCurrentIndex(2);
    FlameGraphWidget* flame = window.call_tree_view()->flame_graph();
    const QImage image = flame->grab().toImage();
    QCOMPARE(image.pixelColor(image.width() / 2, image.height() - 2), QColor(30, 30, 34));
  }

  void WhatIfStartsFromTheStoredTiers() {
    MainWindow window;
    QVERIFY(window.OpenFile(kv_path_));
    WhatIfPanel* what_if = window.what_if();
    what_if->Flush();
    QVERIFY(what_if->notice()->text().contains("tierscope plan"));
    QCOMPARE(what_if->tiers().size(), size_t(2));
    QCOMPARE(what_if->tiers()[0].capacity_bytes,
             window.profile_data()->profile.tiers(0).capacity_bytes());
    QVERIFY(what_if->plan_table()->item(0, 0)->text().startsWith("what-if plan"));
    QCOMPARE(what_if->plan_table()->item(3, 0)->text(), QStringLiteral("baseline: oracle"));
    QCOMPARE(what_if->plan_table()->item(4, 1)->text(), QStringLiteral("81.0 %"));
    // Those figures are the planner's model on the profile's own samples, and say so.
    QStringList titles;
    for (const QGroupBox* box : what_if->findChildren<QGroupBox*>()) titles << box->title();
    QVERIFY2(titles.contains("Site-level model, in-sample (the profile's own samples)"),
             qPrintable(titles.join(", ")));
  }

  void WhatIfOffersAReplayFromThePanelAndTheMenu() {
    MainWindow window;
    WhatIfPanel* what_if = window.what_if();
    QAction* menu_action = nullptr;
    for (QAction* menu : window.menuBar()->actions()) {
      if (menu->text() != QStringLiteral("&What-if")) continue;
      for (QAction* a : menu->menu()->actions())
        if (a->text() == QStringLiteral("&Replay on trace…")) menu_action = a;
    }
    QVERIFY(menu_action);
    // Nothing to plan, nothing to replay.
    QVERIFY(!menu_action->isEnabled());
    QVERIFY(!what_if->replay_button()->isEnabled());
    QVERIFY(window.OpenFile(kv_path_));
    QVERIFY(menu_action->isEnabled());
    QVERIFY(what_if->replay_button()->isEnabled());
    what_if->Flush();
    // A profile alone is not replayed, and the panel says how to get one.
    QVERIFY(what_if->replay_trace().isEmpty());
    QVERIFY(!what_if->replayed());
    QCOMPARE(what_if->replay_table()->rowCount(), 0);
    QVERIFY2(what_if->replay_caption()->text().contains("Replay on trace…"),
             qPrintable(what_if->replay_caption()->text()));
  }
};

QTEST_MAIN(WidgetsTest)
#include "widgets_test.moc"
