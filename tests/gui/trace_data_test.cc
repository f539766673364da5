// The data behind opening a trace and the what-if: the analysis through the analyzer library,
// the bounded address map, re-planning with the analyzer's planner, and a saved plan that the
// placer's own checks accept.
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>

#include "data/address_map.h"
#include "data/trace_analysis.h"
#include "data/what_if_plan.h"
#include "profile_generator.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/placer/run_config.h"
#include "trace_generator.h"

using namespace tierscope;
using namespace tierscope::gui;

class TraceDataTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString trace_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    trace_ = dir_.filePath("kv.trace");
    testing::WriteKvTrace(trace_.toStdString());
  }

  void KindOfTellsTracesFromProfiles() {
    formats::FileKind kind;
    QString error;
    QVERIFY(ProfileSource::KindOf(trace_, &kind, &error));
    QCOMPARE(kind, formats::FileKind::kTrace);
    const QString profile = dir_.filePath("p.tsprof");
    formats::WriteProfile(profile.toStdString(), testing::MakeKvcacheProfile());
    QVERIFY(ProfileSource::KindOf(profile, &kind, &error));
    QCOMPARE(kind, formats::FileKind::kProfile);
    QVERIFY(!ProfileSource::KindOf(dir_.filePath("missing.trace"), &kind, &error));
    QVERIFY(error.contains("missing.trace"));
  }

  void AnalysisGivesTheSitesAndTheAddressMap() {
    std::vector<double> progress;
    TraceAnalysis result =
        AnalyzeTraceFile(trace_, nullptr, [&](double share) { progress.push_back(share); });
    QVERIFY2(result.data, qPrintable(result.error));
    QVERIFY(result.error.isEmpty());
    QVERIFY(!result.cancelled);
    const profile::ProfileChunk& p = result.data->profile;
    QCOMPARE(p.sites_size(), 2);  // the index and the values
    uint64_t allocations = 0;
    for (const profile::Site& s : p.sites()) allocations += s.allocations();
    QCOMPARE(allocations, uint64_t(1 + 2 * 200));
    QCOMPARE(p.metadata().runs(0).hostname(), std::string("trace-host"));
    // Progress only moves forward and ends at 1.
    QVERIFY(!progress.empty());
    QVERIFY(std::is_sorted(progress.begin(), progress.end()));
    QCOMPARE(progress.back(), 1.0);

    const AddressMapData* map = result.data->address_map.get();
    QVERIFY(map);
    QCOMPARE(map->cell_shift, 12);  // small trace: page-sized cells
    QCOMPARE(map->samples, testing::kIndexSamples + 2 * 20);
    QCOMPARE(map->blocks.size(), size_t(1 + 2 * 200));
    // The index block: never freed, so live to the end of the run.
    const AddressBlock& index = map->blocks.back();
    QCOMPARE(index.start, testing::kIndexAddress);
    QCOMPARE(index.size, testing::kIndexBytes);
    QCOMPARE(index.free_ns, map->duration_ns);
    // A value block lives its 10 ms.
    const AddressBlock& value = map->blocks.front();
    QCOMPARE(value.start, testing::kHeapBase);
    QCOMPARE(value.free_ns - value.alloc_ns, uint64_t(10000000));
  }

  void AddressAxisCutsTheGapBetweenHeapAndMapping() {
    TraceAnalysis result = AnalyzeTraceFile(trace_, nullptr, {});
    const AddressMapData& map = *result.data->address_map;
    QVERIFY(map.spans.size() >= 2);
    // Heap and index are 40 TiB apart; the axis holds little more than what is occupied.
    QVERIFY(map.axis_bytes < 2 * (testing::kIndexBytes + 2 * 200 * 4096 + (2 << 20)));
    // Round trips inside spans, and order is kept across the cut.
    for (uint64_t a : {testing::kHeapBase + 4096 * 7, testing::kIndexAddress + 12345})
      QCOMPARE(map.FromAxis(map.ToAxis(a)), a);
    QVERIFY(map.ToAxis(testing::kHeapBase) < map.ToAxis(testing::kIndexAddress));
  }

  void AddressMapStaysWithinItsBounds() {
    // Tiny bounds force the coarsening paths: cells grow, small blocks go.
    AddressMapOptions options;
    options.max_cells = 64;
    options.max_blocks = 32;
    options.duration_ns = 1000000000;
    AddressMapResult r = BuildAddressMap(trace_.toStdString(), options, nullptr, {});
    QVERIFY(r.error.isEmpty());
    QVERIFY(r.map.cells.size() <= 64);
    QVERIFY(r.map.cell_shift > 12);
    QVERIFY(r.map.blocks.size() <= 32);
    QVERIFY(r.map.min_block_bytes > 4096);  // the 4 KiB values are no longer outlined
    QVERIFY(r.map.time_bins < 1024);        // time was merged too, once addresses could not be
    QCOMPARE(r.map.blocks.size(), size_t(1));
    QCOMPARE(r.map.blocks[0].start, testing::kIndexAddress);
    // Every sample is still counted.
    uint64_t total = 0;
    for (const AddressCell& c : r.map.cells) total += c.count;
    QCOMPARE(total, r.map.samples);
  }

  void CancelStopsTheAnalysis() {
    std::atomic<bool> cancel{true};
    TraceAnalysis result = AnalyzeTraceFile(trace_, &cancel, {});
    QVERIFY(result.cancelled);
    QVERIFY(!result.data);
  }

  void DamagedTraceNamesTheProblem() {
    const QString bad = dir_.filePath("bad.trace");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("TIERSCOP but then nothing useful at all");
    f.close();
    TraceAnalysis result = AnalyzeTraceFile(bad, nullptr, {});
    QVERIFY(!result.data);
    QVERIFY2(result.error.startsWith(bad), qPrintable(result.error));
    QVERIFY(!result.error.contains('\n'));

    // Cut in the middle of a chunk: what came before is analyzed, and the error says so.
    const QString cut = dir_.filePath("cut.trace");
    QVERIFY(QFile::copy(trace_, cut));
    QFile c(cut);
    QVERIFY(c.resize(c.size() - 20));
    result = AnalyzeTraceFile(cut, nullptr, {});
    QVERIFY(result.data);
    QVERIFY2(result.error.startsWith(cut), qPrintable(result.error));
  }

  void ReplanFollowsTheCapacity() {
    auto kv = ProfileSource::FromProfile(testing::MakeKvcacheProfile(), "kv.tsprof");
    std::vector<analyzer::TierSpec> tiers = InitialTiers(kv->profile);
    QCOMPARE(tiers.size(), size_t(2));
    QCOMPARE(tiers[1].capacity_bytes, uint64_t(0));

    tiers[0].capacity_bytes = 1;  // nothing fits the fast tier...
    WhatIfResult none = Replan(*kv, tiers);
    QVERIFY2(none.data, qPrintable(none.error));
    QCOMPARE(none.data->profile.plan().fast_share(), 0.0);
    for (const profile::Site& s : none.data->profile.sites())
      QCOMPARE(none.data->PlannedTier(s), tiers[1].name);

    tiers[0].capacity_bytes = uint64_t(1) << 40;  // ...or everything does
    WhatIfResult all = Replan(*kv, tiers);
    QVERIFY(all.data);
    QCOMPARE(all.data->profile.plan().fast_share(), 1.0);
    QVERIFY(all.data->profile.plan().stall_saved_ns() > none.data->profile.plan().stall_saved_ns());
    for (const profile::Site& s : all.data->profile.sites())
      QCOMPARE(all.data->PlannedTier(s), tiers[0].name);

    // Zero is an empty fast tier here, not the planner's "unlimited".
    tiers[0].capacity_bytes = 0;
    WhatIfResult zero = Replan(*kv, tiers);
    QVERIFY2(zero.data, qPrintable(zero.error));
    QCOMPARE(zero.data->profile.plan().fast_share(), 0.0);

    // Unusable tiers are an error line, not an exception.
    WhatIfResult bad = Replan(*kv, {});
    QVERIFY(!bad.data);
    QVERIFY(!bad.error.isEmpty());
  }

  void TraceWithoutTiersGetsFastAndSlow() {
    TraceAnalysis result = AnalyzeTraceFile(trace_, nullptr, {});
    std::vector<analyzer::TierSpec> tiers = InitialTiers(result.data->profile);
    QCOMPARE(tiers.size(), size_t(2));
    QCOMPARE(tiers[0].name, std::string("fast"));
    QVERIFY(tiers[0].capacity_bytes > 0);
    QCOMPARE(tiers[1].capacity_bytes, uint64_t(0));
  }

  void SavedPlanIsOneThePlacerAccepts() {
    // The whole flow: a trace, analyzed, planned in the what-if, saved.
    TraceAnalysis analysis = AnalyzeTraceFile(trace_, nullptr, {});
    QVERIFY(analysis.data);
    std::vector<analyzer::TierSpec> tiers = InitialTiers(analysis.data->profile);
    tiers[0].capacity_bytes = uint64_t(1) << 40;
    WhatIfResult planned = Replan(*analysis.data, tiers);
    QVERIFY(planned.data);
    const QString path = dir_.filePath("planned.tsprof");
    QString error;
    QVERIFY2(SaveProfile(*planned.data, path, &error), qPrintable(error));

    // What the preloaded placer does at start: read, resolve tiers from the profile, check.
    formats::ProfileReadResult read = formats::ReadProfile(path.toStdString());
    QVERIFY(read.ok());
    std::string why;
    auto resolved = placer::ResolveTiers(nullptr, &read.profile, &why);
    QVERIFY2(resolved, why.c_str());
    QCOMPARE(resolved->source, std::string("profile"));
    QCOMPARE(resolved->tiers.size(), size_t(2));
    QCOMPARE(resolved->tiers[0].name, tiers[0].name);
    QCOMPARE(resolved->tiers[0].capacity_bytes, uint64_t(1) << 40);
    auto problem = placer::CheckPlan(read.profile, resolved->tiers);
    QVERIFY2(!problem, problem ? problem->c_str() : "");
    // Every site is assigned to the fast tier, as chosen.
    QCOMPARE(read.profile.plan().assignments_size(), read.profile.sites_size());
    for (const profile::Assignment& a : read.profile.plan().assignments())
      QCOMPARE(a.tier(), tiers[0].name);

    QVERIFY(!SaveProfile(*planned.data, dir_.filePath("no/such/dir/p.tsprof"), &error));
    QVERIFY(error.contains("no/such/dir"));
  }
};

QTEST_MAIN(TraceDataTest)
#include "trace_data_test.moc"
