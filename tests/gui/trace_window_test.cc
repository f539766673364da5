// The main window with traces and the live what-if, under the offscreen platform: a trace is
// analyzed in the background and shown, Cancel stops it and leaves the window usable, a corrupt
// trace gives the error dialog, the what-if re-plans when a capacity moves, replays the plan on a
// trace (held out or in-sample) and saves a profile, and the address map paints, zooms and
// answers tooltips' questions.
#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QMessageBox>
#include <QMimeData>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QThread>
#include <QtTest>
#include <set>

#include "app/main_window.h"
#include "app/recent_files.h"
#include "app/trace_loader.h"
#include "image_checks.h"
#include "models/sites_filter_model.h"
#include "models/sites_model.h"
#include "profile_generator.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/analyzer/evaluate.h"
#include "tierscope/formats/profile_io.h"
#include "trace_generator.h"
#include "widgets/address_map_widget.h"
#include "widgets/sites_view.h"
#include "widgets/what_if_panel.h"

using namespace tierscope;
using namespace tierscope::gui;

namespace {

// Waits for the window's LoadFinished and returns its `ok`; fails the test after 60 s.
bool WaitForLoad(QSignalSpy& spy) {
  if (spy.isEmpty() && !spy.wait(60000)) return false;
  return spy.takeFirst().at(0).toBool();
}

// The replay table's row for `name` ("tierscope", "upper bound: hindsight-pages"), or -1.
int ReplayRow(WhatIfPanel* what_if, const QString& name) {
  QTableWidget* table = what_if->replay_table();
  for (int r = 0; r < table->rowCount(); ++r)
    if (table->item(r, 0) && table->item(r, 0)->text() == name) return r;
  return -1;
}

QStringList ReplayCells(WhatIfPanel* what_if, const QString& name) {
  const int r = ReplayRow(what_if, name);
  if (r < 0) return {};
  return {what_if->replay_table()->item(r, 1)->text(), what_if->replay_table()->item(r, 2)->text()};
}

// What the table must say for `name`, from the analyzer's own result: the share with one
// decimal, the stall over all heap samples at the fastest tier's latency with two.
QStringList ExpectedCells(const analyzer::EvaluationResult& r, const std::string& name) {
  for (const analyzer::PolicyResult& p : r.policies) {
    if (p.name != name) continue;
    const double all_fast =
        double(r.heap_samples) * r.tiers.at(0).latency_ns * r.accesses_per_sample;
    return {QString::asprintf("%.1f %%", p.fast_share * 100),
            QString::asprintf("%.2f", p.stall_ns / all_fast)};
  }
  return {QStringLiteral("no policy %1").arg(QString::fromStdString(name))};
}

analyzer::PlanOptions FastSlow(uint64_t fast_bytes) {
  analyzer::PlanOptions plan;
  plan.tiers = {{"fast", fast_bytes, 100}, {"slow", 0, 300}};
  return plan;
}

}  // namespace

class TraceWindowTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString trace_, big_trace_, profile_;
  // A profile learned from trace_ (run A), and another run of the same program (run B).
  QString learned_, other_run_;
  profile::ProfileChunk learned_profile_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    QCoreApplication::setOrganizationName("tierscope-test");
    QCoreApplication::setApplicationName("trace-window-test");
    trace_ = dir_.filePath("kv.trace");
    testing::WriteKvTrace(trace_.toStdString());
    big_trace_ = dir_.filePath("big.trace");
    testing::WriteKvTrace(big_trace_.toStdString(), 400000);  // ~1.6M events, ~400 chunks
    profile_ = dir_.filePath("kv.tsprof");
    formats::WriteProfile(profile_.toStdString(), testing::MakeKvcacheProfile());
    analyzer::AnalyzeResult learned = analyzer::AnalyzeTrace(trace_.toStdString());
    QVERIFY(!learned.error);
    learned_profile_ = learned.profile;
    learned_ = dir_.filePath("learned.tsprof");
    formats::WriteProfile(learned_.toStdString(), learned_profile_);
    other_run_ = dir_.filePath("kv-other-run.trace");
    testing::WriteKvTrace(other_run_.toStdString(), 300);
  }

  void TraceIsAnalyzedInTheBackgroundAndShown() {
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(trace_));
    // Returned at once: the analysis runs on the worker while the event loop keeps going.
    QVERIFY(window.loader()->busy());
    QVERIFY(window.progress_bar()->isVisible());
    QVERIFY(window.cancel_button()->isVisible());
    QVERIFY(WaitForLoad(loaded));
    QVERIFY(!window.loader()->busy());
    QVERIFY(!window.progress_bar()->isVisible());
    QVERIFY(!window.cancel_button()->isVisible());
    QCOMPARE(window.progress_bar()->value(), 1000);
    QVERIFY(window.profile_data());
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 2);
    QVERIFY(window.summary()->toPlainText().contains("trace-host"));
    QVERIFY(window.address_map()->map());
    QVERIFY(window.windowTitle().contains("kv.trace"));
    // A trace has no stored plan: the what-if's first plan shows in the sites and the summary.
    window.what_if()->Flush();
    SitesModel* sites = window.sites_view()->model();
    for (int r = 0; r < sites->rowCount(); ++r) {
      const QString tier = sites->index(r, SitesModel::kTier).data().toString();
      QVERIFY2(tier == "fast" || tier == "slow", qPrintable(tier));
    }
    QVERIFY(window.summary()->toPlainText().contains("Expected fast-tier share"));
  }

  void CancelStopsTheAnalysisAndLeavesTheWindowUsable() {
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(profile_));
    QVERIFY(WaitForLoad(loaded));
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 8);

    QVERIFY(window.OpenFile(big_trace_));
    QVERIFY(window.loader()->busy());
    QTest::mouseClick(window.cancel_button(), Qt::LeftButton);
    QVERIFY(!WaitForLoad(loaded));  // finished, not ok
    QVERIFY(!window.loader()->busy());
    QVERIFY(!window.cancel_button()->isVisible());
    QVERIFY(window.statusBar()->currentMessage().contains("cancelled"));
    // No error dialog for a cancel, and the profile shown before is still shown.
    QVERIFY(!window.findChild<QMessageBox*>("openError"));
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 8);
    QCOMPARE(window.profile_data()->path, profile_);
    // Usable: the next open works.
    QVERIFY(window.OpenFile(trace_));
    QVERIFY(WaitForLoad(loaded));
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 2);
  }

  void DroppedTraceOpensAndJoinsRecentFiles() {
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(trace_)});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &drop);
    QVERIFY(WaitForLoad(loaded));
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 2);
    QCOMPARE(RecentFiles::Load().value(0), QFileInfo(trace_).absoluteFilePath());
  }

  void OpeningAProfileDuringAnAnalysisWins() {
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(big_trace_));
    QVERIFY(window.OpenFile(profile_));
    QVERIFY(WaitForLoad(loaded));   // the profile, at once
    QVERIFY(!WaitForLoad(loaded));  // then the trace, cancelled
    QCOMPARE(window.profile_data()->path, profile_);
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 8);
  }

  void ClosingDuringAnAnalysisDoesNotCrash() {
    auto* window = new MainWindow;
    window->show();
    QVERIFY(window->OpenFile(big_trace_));
    delete window;  // the loader cancels and joins its worker
  }

  void CorruptTraceGivesAnErrorDialog() {
    // A trace whose first chunk is garbage: the header passes, the analysis fails.
    const QString bad = dir_.filePath("bad.trace");
    QVERIFY(testing::WriteDamagedCopy(trace_.toStdString(), bad.toStdString()));

    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(bad));
    QVERIFY(!WaitForLoad(loaded));
    auto* box = window.findChild<QMessageBox*>("openError");
    QVERIFY(box);
    QVERIFY2(box->text().startsWith(bad), qPrintable(box->text()));
    box->accept();
    QVERIFY(!window.profile_data());
  }

  void TruncatedTraceShowsWhatCameBeforeAndSaysSo() {
    const QString cut = dir_.filePath("cut.trace");
    QVERIFY(QFile::copy(trace_, cut));
    QFile c(cut);
    QVERIFY(c.resize(c.size() - 20));
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(cut));
    QVERIFY(WaitForLoad(loaded));
    auto* box = window.findChild<QMessageBox*>("openError");
    QVERIFY(box);
    QCOMPARE(box->windowTitle(), QStringLiteral("Trace damaged"));
    QVERIFY2(box->text().startsWith(cut), qPrintable(box->text()));
    QVERIFY(box->text().contains("complete chunks"));
    box->accept();
    QCOMPARE(window.sites_view()->proxy()->rowCount(), 2);
  }

  void WhatIfReplansWhenACapacityMoves() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(profile_));
    WhatIfPanel* what_if = window.what_if();
    // The first plan runs on the worker: the window is back before it is done.
    what_if->Flush();
    QVERIFY(!what_if->planning());
    QVERIFY(what_if->planned());
    QVERIFY(what_if->save_button()->isEnabled());
    const std::string fast = what_if->tiers()[0].name;
    const std::string slow = what_if->tiers()[1].name;
    // what-if + 3 baselines + the stored plan
    QCOMPARE(what_if->plan_table()->rowCount(), 5);
    QCOMPARE(what_if->plan_table()->item(4, 1)->text(), QStringLiteral("81.0 %"));

    SitesModel* sites = window.sites_view()->model();
    auto tier_column = [&] {
      QStringList tiers;
      for (int r = 0; r < sites->rowCount(); ++r)
        tiers << sites->index(r, SitesModel::kTier).data().toString();
      return tiers;
    };
    QSignalSpy changed(what_if, &WhatIfPanel::PlanChanged);
    what_if->SetCapacity(0, uint64_t(1) << 40);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(what_if->plan_table()->item(0, 1)->text(), QStringLiteral("100.0 %"));
    QCOMPARE(tier_column(), QStringList(8, QString::fromStdString(fast)));
    QCOMPARE(what_if->field(0)->value(), double(uint64_t(1) << 20));  // MiB

    // Typing in the field plans too (on Enter: keyboard tracking is off).
    what_if->field(0)->setFocus();
    what_if->field(0)->selectAll();
    QTest::keyClicks(what_if->field(0), "0");
    QTest::keyClick(what_if->field(0), Qt::Key_Enter);
    QVERIFY(changed.wait(5000));
    QCOMPARE(what_if->tiers()[0].capacity_bytes, uint64_t(0));
    QCOMPARE(what_if->slider(0)->value(), 0);
    QCOMPARE(what_if->plan_table()->item(0, 1)->text(), QStringLiteral("0.0 %"));
    QCOMPARE(tier_column(), QStringList(8, QString::fromStdString(slow)));
    QVERIFY(window.summary()->toPlainText().contains("0.0 %"));

    // Two slider moves before the pause ends: one plan, for the last position.
    changed.clear();
    what_if->slider(0)->setValue(600);
    what_if->slider(0)->setValue(300);
    QVERIFY(changed.wait(5000));
    what_if->Flush();
    QCOMPARE(changed.count(), 1);
    const uint64_t chosen = what_if->tiers()[0].capacity_bytes;
    QVERIFY(chosen > 0);
    QCOMPARE(what_if->planned()->profile.tiers(0).capacity_bytes(), chosen);
    QCOMPARE(what_if->field(0)->value(), std::round(chosen / 1048576.0 * 100) / 100);
    what_if->SetCapacity(0, 0);

    // Saved, it reads back with the chosen tiers and plan.
    const QString saved = dir_.filePath("whatif.tsprof");
    QVERIFY2(what_if->SavePlan(saved), qPrintable(what_if->last_error()));
    auto read = formats::ReadProfile(saved.toStdString());
    QVERIFY(read.ok());
    // An empty fast tier is saved as 1 byte: 0 would tell the placer "unlimited".
    QCOMPARE(read.profile.tiers(0).capacity_bytes(), uint64_t(1));
    QCOMPARE(read.profile.plan().fast_share(), 0.0);
    QCOMPARE(read.profile.plan().default_tier(), slow);
  }

  void WhatIfReplaysAHeldOutTrace() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(learned_));
    WhatIfPanel* what_if = window.what_if();
    what_if->Flush();
    // A profile alone: no replay until a trace is picked, and the panel says so in one line.
    QVERIFY(what_if->planned());
    QCOMPARE(what_if->replay_table()->rowCount(), 0);
    QVERIFY2(what_if->replay_caption()->text().startsWith("No replay: pick another run's trace"),
             qPrintable(what_if->replay_caption()->text()));
    QVERIFY(what_if->replay_button()->isEnabled());
    // A profile is not a trace to replay: refused with a line, nothing starts.
    QVERIFY(!what_if->PickReplayTrace(learned_));
    QVERIFY(what_if->replay_note()->text().contains("is a profile, not a trace"));
    QVERIFY(!what_if->planning());

    QSignalSpy replayed(what_if, &WhatIfPanel::Replayed);
    QVERIFY(what_if->PickReplayTrace(other_run_));
    // Returned at once: the plan and the replay run on the what-if's worker.
    QVERIFY(what_if->planning());
    QVERIFY(replayed.wait(60000));
    QCOMPARE(replayed.takeFirst().at(0).toBool(), true);
    QCOMPARE(what_if->replay_trace(), other_run_);
    const uint64_t initial = what_if->tiers()[0].capacity_bytes;
    const QStringList first_touch_before = ReplayCells(what_if, "first-touch");

    // 3 MiB typed into the fast tier's field: re-planned and replayed once the controls rest.
    what_if->field(0)->setValue(3.0);
    QVERIFY(replayed.wait(60000));
    QCOMPARE(replayed.takeFirst().at(0).toBool(), true);
    QVERIFY(!what_if->planning());
    QCOMPARE(what_if->tiers()[0].capacity_bytes, uint64_t(3) << 20);

    const analyzer::EvaluationResult expected = analyzer::PlanAndEvaluate(
        learned_profile_, FastSlow(uint64_t(3) << 20), other_run_.toStdString(), {});
    QVERIFY(expected.held_out);
    QCOMPARE(ReplayCells(what_if, "tierscope"), ExpectedCells(expected, "tierscope"));
    QCOMPARE(ReplayCells(what_if, "first-touch"), ExpectedCells(expected, "first-touch"));
    QCOMPARE(what_if->replay_caption()->text(),
             QStringLiteral("held out: replayed on kv-other-run.trace (another run)"));
    // The bounds are there, marked as bounds.
    QCOMPARE(ReplayCells(what_if, "upper bound: hindsight-site-window"),
             ExpectedCells(expected, "hindsight-site-window"));
    QCOMPARE(ReplayCells(what_if, "upper bound: hindsight-site-window-fixed"),
             ExpectedCells(expected, "hindsight-site-window-fixed"));
    QVERIFY(ReplayRow(what_if, "upper bound: hindsight-pages") >= 0);
    QCOMPARE(ReplayRow(what_if, "hindsight-pages"), -1);
    // The site-level model's table stays, for the same plan.
    QVERIFY(what_if->plan_table()->item(0, 0)->text().startsWith("what-if plan"));

    // The figures followed the capacity, and they are run B's: the learned run's differ.
    QVERIFY(initial != uint64_t(3) << 20);
    QVERIFY(first_touch_before != ReplayCells(what_if, "first-touch"));
    const analyzer::EvaluationResult in_sample = analyzer::PlanAndEvaluate(
        learned_profile_, FastSlow(uint64_t(3) << 20), trace_.toStdString(), {});
    QVERIFY(ExpectedCells(in_sample, "tierscope") != ExpectedCells(expected, "tierscope"));

    // Replayed on the run it was learned from, the caption warns.
    what_if->SetReplayTrace(trace_);
    QVERIFY(replayed.wait(60000));
    QCOMPARE(what_if->replay_caption()->text(),
             QStringLiteral("IN-SAMPLE: replayed on the trace the profile was learned from "
                            "(optimistic)"));
    QCOMPARE(ReplayCells(what_if, "tierscope"), ExpectedCells(in_sample, "tierscope"));

    // Another file opened: the picked trace is forgotten.
    QVERIFY(window.OpenFile(profile_));
    what_if->Flush();
    QVERIFY(what_if->replay_trace().isEmpty());
    QCOMPARE(what_if->replay_table()->rowCount(), 0);
  }

  void WhatIfReplaysTheOpenedTraceInSample() {
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(trace_));
    QVERIFY(WaitForLoad(loaded));
    WhatIfPanel* what_if = window.what_if();
    QCOMPARE(what_if->replay_trace(), trace_);
    what_if->Flush();
    QVERIFY(what_if->replayed());
    QVERIFY(what_if->replay_caption()->text().startsWith("IN-SAMPLE: "));
    QCOMPARE(what_if->replay_table()->rowCount(), 8);  // five policies, three bounds
    const analyzer::EvaluationResult expected = analyzer::PlanAndEvaluate(
        window.profile_data()->profile, FastSlow(what_if->tiers()[0].capacity_bytes),
        trace_.toStdString(), {});
    QVERIFY(!expected.held_out);
    QCOMPARE(ReplayCells(what_if, "tierscope"), ExpectedCells(expected, "tierscope"));
    QCOMPARE(ReplayCells(what_if, "first-touch"), ExpectedCells(expected, "first-touch"));
  }

  void NewerCapacitySupersedesARunningReplay() {
    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(learned_));
    WhatIfPanel* what_if = window.what_if();
    what_if->Flush();
    QSignalSpy replayed(what_if, &WhatIfPanel::Replayed);
    what_if->SetReplayTrace(big_trace_);  // ~1.6M events to replay
    QVERIFY(what_if->planning());
    // Before that replay is collected: it is superseded, only the newest one is shown.
    what_if->SetCapacity(0, uint64_t(3) << 20);
    QVERIFY(!what_if->planning());
    QCOMPARE(replayed.count(), 1);
    QCOMPARE(replayed.at(0).at(0).toBool(), true);
    const analyzer::EvaluationResult expected = analyzer::PlanAndEvaluate(
        learned_profile_, FastSlow(uint64_t(3) << 20), big_trace_.toStdString(), {});
    QCOMPARE(ReplayCells(what_if, "tierscope"), ExpectedCells(expected, "tierscope"));
    QCOMPARE(ReplayCells(what_if, "first-touch"), ExpectedCells(expected, "first-touch"));
    QCOMPARE(what_if->replayed()->tiers.at(0).capacity_bytes, uint64_t(3) << 20);
  }

  void DamagedReplayTraceIsOneLine() {
    const QString bad = dir_.filePath("bad-replay.trace");
    QVERIFY(testing::WriteDamagedCopy(other_run_.toStdString(), bad.toStdString()));

    MainWindow window;
    window.show();
    QVERIFY(window.OpenFile(learned_));
    WhatIfPanel* what_if = window.what_if();
    QSignalSpy replayed(what_if, &WhatIfPanel::Replayed);
    what_if->SetReplayTrace(bad);
    QVERIFY(replayed.wait(60000));
    QCOMPARE(replayed.takeFirst().at(0).toBool(), false);
    const QString caption = what_if->replay_caption()->text();
    QVERIFY2(caption.startsWith("Cannot replay: " + bad), qPrintable(caption));
    QVERIFY(!caption.contains('\n'));
    QCOMPARE(what_if->replay_table()->rowCount(), 0);
    QVERIFY(!what_if->replayed());
    // No dialog: the window goes on, and the plan is still there.
    QVERIFY(!window.findChild<QMessageBox*>("openError"));
    QVERIFY(what_if->planned());

    // Cut short: the figures of the complete chunks, and a line saying so.
    const QString cut = dir_.filePath("cut-replay.trace");
    QVERIFY(QFile::copy(other_run_, cut));
    QFile c(cut);
    QVERIFY(c.resize(c.size() - 20));
    what_if->SetReplayTrace(cut);
    QVERIFY(replayed.wait(60000));
    QCOMPARE(replayed.takeFirst().at(0).toBool(), true);
    QVERIFY(ReplayRow(what_if, "tierscope") >= 0);
    QVERIFY2(what_if->replay_note()->text().startsWith(cut),
             qPrintable(what_if->replay_note()->text()));
    QVERIFY(what_if->replay_note()->text().contains("complete chunks"));
  }

  void PanelGoneDuringAReplayIsHarmless() {
    auto* panel = new WhatIfPanel;
    panel->SetData(ProfileSource::FromProfile(learned_profile_), big_trace_);
    QVERIFY(panel->planning());
    QPointer<QThread> worker = panel->worker();
    QVERIFY(worker);
    delete panel;  // cancels the replay, does not wait for it
    QTRY_VERIFY_WITH_TIMEOUT(!worker, 30000);
  }

  void PanelGoneBeforeItsPlanIsHarmless() {
    auto* panel = new WhatIfPanel;
    panel->SetData(ProfileSource::FromProfile(testing::MakeKvcacheProfile()));
    QVERIFY(panel->planning());  // started, not collected: no event was processed yet
    QPointer<QThread> worker = panel->worker();
    QVERIFY(worker);
    delete panel;  // does not wait for the planner
    // The worker finishes on its own and is freed then.
    QTRY_VERIFY_WITH_TIMEOUT(!worker, 30000);
  }

  void AddressMapPaintsZoomsAndToggles() {
    MainWindow window;
    window.show();
    QSignalSpy loaded(&window, &MainWindow::LoadFinished);
    QVERIFY(window.OpenFile(trace_));
    QVERIFY(WaitForLoad(loaded));
    window.tabs()->setCurrentIndex(5);
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    AddressMapWidget* map = window.address_map();
    QVERIFY(map->isVisible());
    const QImage log_image = map->grab().toImage();
    QVERIFY(DistinctColours(log_image) > 10);
    // At the overview the 4 KiB values are under a pixel: only the 4 MiB index is outlined.
    QCOMPARE(map->blocks_drawn(), 1);
    // Zoomed to 16 values of the heap, they are outlined one by one.
    map->ShowAddresses(testing::kHeapBase, testing::kHeapBase + 16 * 4096);
    map->grab();
    QCOMPARE(map->blocks_drawn(), 16);

    // Zoom into the index mapping down to one page: cells are pages, so the view is a few of
    // them and a sampled page shows its count.
    const AddressMapData* data = map->map();
    map->ShowAddresses(testing::kIndexAddress, testing::kIndexAddress + 4096);
    QCOMPARE(map->view_y1() - map->view_y0(), AddressMapWidget::kMinAxisBytes);
    map->grab();
    const QRect area = map->MapRect();
    QCOMPARE(data->FromAxis(map->view_y0()), testing::kIndexAddress);
    const AddressBlock* block = map->BlockAt(QPoint(area.center().x(), area.top() + 2));
    QVERIFY(block);
    QCOMPARE(block->start, testing::kIndexAddress);
    // The index's first page got exactly one sample, the first one, in the first time bin.
    QCOMPARE(map->SamplesAt(QPoint(area.left(), area.top() + 1)), 1u);
    QCOMPARE(map->SamplesAt(QPoint(area.right(), area.top() + 1)), 0u);

    // Wheel and keys zoom and reset.
    map->ResetView();
    const double full = map->view_y1() - map->view_y0();
    map->setFocus();
    QTest::keyClick(map, Qt::Key_Plus);
    QCOMPARE(map->view_y1() - map->view_y0(), full / 2);
    QTest::keyClick(map, Qt::Key_Home);
    QCOMPARE(map->view_y1() - map->view_y0(), full);

    map->SetLogScale(false);
    const QImage linear_image = map->grab().toImage();
    QVERIFY(linear_image != log_image);

    // A profile has no events: the tab says a trace is needed instead of painting nothing.
    QVERIFY(window.OpenFile(profile_));
    QVERIFY(!window.address_map()->map());
  }
};

QTEST_MAIN(TraceWindowTest)
#include "trace_window_test.moc"
