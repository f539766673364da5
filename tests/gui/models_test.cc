// The viewer's data layer and models, asserted on generated profiles written to disk and read
// back through the same ProfileSource the application uses.
#include <QAbstractItemModelTester>
#include <QTemporaryDir>
#include <QtTest>

#include "data/call_tree.h"
#include "data/heat_map.h"
#include "data/profile_source.h"
#include "data/site_text.h"
#include "data/summary.h"
#include "models/call_tree_model.h"
#include "models/sites_filter_model.h"
#include "models/sites_model.h"
#include "profile_generator.h"
#include "tierscope/formats/profile_io.h"

using namespace tierscope;
using namespace tierscope::gui;

class ModelsTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  std::shared_ptr<const ProfileData> kv_;

  QString Write(const QString& name, const profile::ProfileChunk& p) {
    const QString path = dir_.filePath(name);
    formats::WriteProfile(path.toStdString(), p);
    return path;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    LoadResult r = ProfileSource::Open(Write("kv.tsprof", testing::MakeKvcacheProfile()));
    QVERIFY2(r.data, qPrintable(r.error));
    kv_ = r.data;
  }

  void OpenReadsWhatWasWritten() {
    QCOMPARE(kv_->profile.sites_size(), 8);
    QCOMPARE(kv_->profile.tiers_size(), 2);
    QCOMPARE(kv_->PlannedTier(kv_->profile.sites(0)), std::string("dram"));  // assigned
    QCOMPARE(kv_->PlannedTier(kv_->profile.sites(1)), std::string("cxl"));   // default tier
  }

  void OpenRejectsBadFilesWithOneLine() {
    const QString garbage = dir_.filePath("garbage.tsprof");
    QFile f(garbage);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is not a tierscope file at all");
    f.close();
    LoadResult r = ProfileSource::Open(garbage);
    QVERIFY(!r.data);
    QVERIFY2(r.error.startsWith(garbage), qPrintable(r.error));
    QVERIFY(!r.error.contains('\n'));

    // A truncated profile is damaged: refused rather than shown half.
    const QString good = Write("cut.tsprof", testing::MakeKvcacheProfile());
    QFile cut(good);
    QVERIFY(cut.resize(cut.size() - 7));
    r = ProfileSource::Open(good);
    QVERIFY(!r.data);
    QVERIFY(!r.error.isEmpty());

    r = ProfileSource::Open(dir_.filePath("missing.tsprof"));
    QVERIFY(!r.data);
    QVERIFY(r.error.contains("missing.tsprof"));
  }

  void SiteTexts() {
    const profile::Site& index = kv_->profile.sites(0);
    QCOMPARE(SiteFunction(index), QStringLiteral("kv_alloc_index"));
    QCOMPARE(SiteModule(index), QStringLiteral("ts-example-kvcache"));
    QCOMPARE(SiteSource(index), QStringLiteral("examples/kvcache.cc:58"));
    QCOMPARE(MedianLifetimeNs(index), -1.0);  // never freed
    const double value_lifetime = MedianLifetimeNs(kv_->profile.sites(1));
    QVERIFY(value_lifetime >= std::ldexp(1.0, 18) && value_lifetime < std::ldexp(1.0, 23));
    QVERIFY(SiteFunction(kv_->profile.sites(7)).startsWith("ts-example-kvcache+0x4b33"));

    // The value site's second frame has an inlined chain: both functions listed, one inlined.
    const QStringList stack = StackLines(kv_->profile.sites(1));
    QVERIFY(stack.size() >= 5);
    QVERIFY(stack[1].contains("(inlined) Cache::MakeValue"));
    QVERIFY(stack[2].contains("Cache::Put") && !stack[2].contains("inlined"));
    QVERIFY(stack.last().contains("start_thread"));
  }

  void SitesModelShowsEverySite() {
    SitesModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.SetData(kv_);
    QCOMPARE(model.rowCount(), 8);
    QCOMPARE(model.columnCount(), int(SitesModel::kColumnCount));
    QCOMPARE(model.index(0, SitesModel::kFunction).data().toString(),
             QStringLiteral("kv_alloc_index"));
    QCOMPARE(model.index(0, SitesModel::kBytes).data().toString(), QStringLiteral("64.0 MiB"));
    QCOMPARE(model.index(0, SitesModel::kLoads).data(SitesModel::kSortRole).toULongLong(),
             26000ull);
    QCOMPARE(model.index(0, SitesModel::kLifetime).data().toString(), QStringLiteral("-"));
  }

  void TierColumnMatchesThePlan() {
    SitesModel model;
    model.SetData(kv_);
    std::map<uint64_t, std::string> assigned;
    for (const auto& a : kv_->profile.plan().assignments()) assigned[a.site_id()] = a.tier();
    for (int row = 0; row < model.rowCount(); ++row) {
      const uint64_t id = kv_->profile.sites(row).id();
      const std::string expected =
          assigned.count(id) ? assigned[id] : kv_->profile.plan().default_tier();
      QCOMPARE(model.index(row, SitesModel::kTier).data().toString().toStdString(), expected);
    }
  }

  void SortingByTemperaturePutsTheHotSiteFirst() {
    SitesModel model;
    model.SetData(kv_);
    SitesFilterModel proxy;
    proxy.setSourceModel(&model);
    proxy.sort(SitesModel::kTemperature, Qt::DescendingOrder);
    QCOMPARE(proxy.index(0, SitesModel::kFunction).data().toString(),
             QStringLiteral("kv_alloc_index"));
    QCOMPARE(proxy.index(7, SitesModel::kFunction).data().toString(),
             QStringLiteral("kv_alloc_archive_chunk"));
    double last = 1e300;
    for (int r = 0; r < proxy.rowCount(); ++r) {
      const double t =
          proxy.index(r, SitesModel::kTemperature).data(SitesModel::kSortRole).toDouble();
      QVERIFY(t <= last);
      last = t;
    }
    // Numeric, not textual: 512 MiB sorts after 64 MiB.
    proxy.sort(SitesModel::kBytes, Qt::AscendingOrder);
    QCOMPARE(proxy.index(7, SitesModel::kBytes).data().toString(), QStringLiteral("800.0 MiB"));
    QCOMPARE(proxy.index(0, SitesModel::kBytes).data().toString(), QStringLiteral("1.0 MiB"));
  }

  void FilterByFunctionModuleAndFile() {
    SitesModel model;
    model.SetData(kv_);
    SitesFilterModel proxy;
    proxy.setSourceModel(&model);
    proxy.SetFilter("ARCHIVE", SitesFilterModel::Field::kFunction);
    QCOMPARE(proxy.rowCount(), 1);
    QCOMPARE(proxy.index(0, 0).data().toString(), QStringLiteral("kv_alloc_archive_chunk"));
    proxy.SetFilter("libstdc++", SitesFilterModel::Field::kModule);
    QCOMPARE(proxy.rowCount(), 2);  // both operator new sites
    proxy.SetFilter("new_op.cc", SitesFilterModel::Field::kFile);
    QCOMPARE(proxy.rowCount(), 2);
    proxy.SetFilter("new_op.cc", SitesFilterModel::Field::kFunction);
    QCOMPARE(proxy.rowCount(), 0);
    proxy.SetFilter("kv_alloc");
    QCOMPARE(proxy.rowCount(), 4);
    proxy.SetFilter("");
    QCOMPARE(proxy.rowCount(), 8);
  }

  void HeatMapBinsMatchTheHistograms() {
    HeatMapData map = BuildHeatMap(*kv_, 100);
    QCOMPARE(int(map.rows.size()), 8);
    QCOMPARE(map.bins, 40);
    QCOMPARE(map.bin_ns, uint64_t(100'000'000));
    QCOMPARE(SiteFunction(kv_->profile.sites(map.rows[0])), QStringLiteral("kv_alloc_index"));
    uint32_t max = 0;
    for (size_t r = 0; r < map.rows.size(); ++r) {
      const profile::Site& site = kv_->profile.sites(map.rows[r]);
      if (r > 0) QVERIFY(kv_->profile.sites(map.rows[r - 1]).temperature() >= site.temperature());
      for (int b = 0; b < map.bins; ++b) {
        QCOMPARE(map.At(int(r), b), site.histogram(b));
        max = std::max(max, site.histogram(b));
      }
    }
    QCOMPARE(map.max_cell, max);
    // The cut keeps the hottest.
    HeatMapData top = BuildHeatMap(*kv_, 2);
    QCOMPARE(int(top.rows.size()), 2);
    QCOMPARE(top.sites_with_samples, 8);
    QCOMPARE(top.rows[0], map.rows[0]);
    QCOMPARE(top.rows[1], map.rows[1]);
  }

  void CallTreeBottomUpStartsAtTheAllocators() {
    CallTree tree(kv_, Direction::kBottomUp);
    const auto& roots = tree.Children(tree.root());
    QStringList frames;
    for (const auto& n : roots) frames << n->frame;
    QVERIFY(frames.contains("kv_alloc_index"));
    QVERIFY(frames.contains("operator new(unsigned long)"));
    CallNode* op_new = nullptr;
    for (const auto& n : roots)
      if (n->frame == "operator new(unsigned long)") op_new = n.get();
    QCOMPARE(int(op_new->sites.size()), 2);
    QCOMPARE(op_new->Value(Measure::kBytes), double(96 + 64) * (1 << 20));
    QCOMPARE(int(tree.Children(op_new).size()), 2);  // vector growth and string creation
    // Largest first.
    QCOMPARE(roots[0]->frame, QStringLiteral("kv_alloc_value"));
  }

  void CallTreeTopDownStartsAtTheThreads() {
    CallTree tree(kv_, Direction::kTopDown);
    const auto& roots = tree.Children(tree.root());
    QCOMPARE(int(roots.size()), 2);
    double sum = 0;
    for (const auto& n : roots) {
      QVERIFY(n->frame == "start_thread" || n->frame == "__libc_start_call_main");
      sum += n->Value(Measure::kSamples);
    }
    QCOMPARE(sum, tree.root()->Value(Measure::kSamples));
    QCOMPARE(tree.root()->max_temperature, 9.5);
  }

  void CallTreeModelIsAValidLazyModel() {
    CallTreeModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.SetTree(std::make_shared<CallTree>(kv_, Direction::kTopDown), Measure::kBytes);
    QCOMPARE(model.rowCount(), 2);
    const QModelIndex main = model.index(0, 0).data().toString() == "__libc_start_call_main"
                                 ? model.index(0, 0)
                                 : model.index(1, 0);
    QCOMPARE(main.data().toString(), QStringLiteral("__libc_start_call_main"));
    QVERIFY(model.hasChildren(main));
    const QModelIndex child = model.index(0, 0, main);
    QCOMPARE(child.data().toString(), QStringLiteral("main"));
    QCOMPARE(model.parent(child), main);
    model.SetMeasure(Measure::kSamples);
    QCOMPARE(model.headerData(CallTreeModel::kValue, Qt::Horizontal, Qt::DisplayRole).toString(),
             QStringLiteral("Samples"));
  }

  void SummaryStatesSamplingAndPlan() {
    const QString html = SummaryHtml(*kv_);
    QVERIFY(html.contains("ts-example-kvcache"));
    QVERIFY(html.contains("lab-host"));
    QVERIFY(html.contains("pebs"));
    QVERIFY(html.contains("10007 retired loads or stores"));
    QCOMPARE(HeapSampleCoverage(kv_->profile.metadata()), 0.82);
    QVERIFY(html.contains("82.0 %"));
    QVERIFY(html.contains("81.0 %"));  // plan fast share
    QVERIFY(html.contains("first-touch"));
    QVERIFY(html.contains("oracle"));
  }

  void HundredThousandSites() {
    LoadResult r = ProfileSource::Open(Write("many.tsprof", testing::MakeManySitesProfile(100000)));
    QVERIFY2(r.data, qPrintable(r.error));
    SitesModel model;
    model.SetData(r.data);
    SitesFilterModel proxy;
    proxy.setSourceModel(&model);
    QCOMPARE(proxy.rowCount(), 100000);
    proxy.sort(SitesModel::kTemperature, Qt::DescendingOrder);
    double max = 0;
    for (const auto& s : r.data->profile.sites()) max = std::max(max, s.temperature());
    QCOMPARE(proxy.index(0, SitesModel::kTemperature).data(SitesModel::kSortRole).toDouble(), max);
    proxy.SetFilter("fn_12", SitesFilterModel::Field::kFunction);
    QVERIFY(proxy.rowCount() > 0 && proxy.rowCount() < 100000);
    for (int row = 0; row < std::min(proxy.rowCount(), 50); ++row)
      QVERIFY(proxy.index(row, 0).data().toString().contains("fn_12"));

    CallTree tree(r.data, Direction::kTopDown);
    QCOMPARE(int(tree.Children(tree.root()).size()), 1);  // everything under main
    HeatMapData map = BuildHeatMap(*r.data, 500);
    QCOMPARE(int(map.rows.size()), 500);
    QCOMPARE(r.data->profile.sites(map.rows[0]).temperature(), max);
  }
};

QTEST_MAIN(ModelsTest)
#include "models_test.moc"
