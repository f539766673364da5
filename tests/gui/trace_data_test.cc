// The data behind opening a trace and the what-if: the analysis through the analyzer library,
// the bounded address map, re-planning with the analyzer's planner, replaying the plan on a trace
// with the analyzer's evaluation, and a saved plan that the placer's own checks accept.
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>

#include "data/address_map.h"
#include "data/trace_analysis.h"
#include "data/what_if_plan.h"
#include "profile_generator.h"
#include "tierscope/analyzer/analyze.h"
#include "tierscope/analyzer/evaluate.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/placer/run_config.h"
#include "trace_generator.h"

using namespace tierscope;
using namespace tierscope::gui;

class TraceDataTest : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString trace_, other_run_;

  static const analyzer::PolicyResult* Policy(const analyzer::EvaluationResult& r,
                                              const std::string& name) {
    for (const analyzer::PolicyResult& p : r.policies)
      if (p.name == name) return &p;
    return nullptr;
  }

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    trace_ = dir_.filePath("kv.trace");
    testing::WriteKvTrace(trace_.toStdString());
    other_run_ = dir_.filePath("kv-other-run.trace");  // the same program, a longer run
    testing::WriteKvTrace(other_run_.toStdString(), 300);
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
    TraceAnalysis result = AnalyzeTraceFile(trace_, nullptr, {}, options);
    QVERIFY2(result.data, qPrintable(result.error));
    const AddressMapData& map = *result.data->address_map;
    QVERIFY(map.cells.size() <= 64);
    QVERIFY(map.cell_shift > 12);
    QVERIFY(map.blocks.size() <= 32);
    QVERIFY(map.min_block_bytes > 4096);  // the 4 KiB values are no longer outlined
    QVERIFY(map.time_bins < 1024);        // time was merged too, once addresses could not be
    QCOMPARE(map.blocks.size(), size_t(1));
    QCOMPARE(map.blocks[0].start, testing::kIndexAddress);
    // Every sample is still counted.
    uint64_t total = 0;
    for (const AddressCell& c : map.cells) total += c.count;
    QCOMPARE(total, map.samples);
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

  void ReplayIsPlanAndEvaluateForTheWhatIfTiers() {
    analyzer::AnalyzeResult learned = analyzer::AnalyzeTrace(trace_.toStdString());
    QVERIFY(!learned.error);
    auto data = ProfileSource::FromProfile(learned.profile, "learned.tsprof");
    std::vector<analyzer::TierSpec> tiers = InitialTiers(data->profile);
    tiers[0].capacity_bytes = 3 << 20;
    WhatIfReplay replay = ReplayPlan(*data, tiers, other_run_, nullptr, {});
    QVERIFY2(replay.result, qPrintable(replay.error));
    QVERIFY(replay.error.isEmpty());
    QVERIFY(!replay.partial && !replay.cancelled);
    QCOMPARE(replay.trace, other_run_);

    analyzer::PlanOptions plan;
    plan.tiers = {{"fast", 3 << 20, 100}, {"slow", 0, 300}};
    const analyzer::EvaluationResult expected =
        analyzer::PlanAndEvaluate(learned.profile, plan, other_run_.toStdString(), {});
    const analyzer::EvaluationResult& r = *replay.result;
    QVERIFY(r.held_out);
    QCOMPARE(r.heap_samples, expected.heap_samples);
    QCOMPARE(r.policies.size(), expected.policies.size());
    for (size_t i = 0; i < r.policies.size(); ++i) {
      QCOMPARE(r.policies[i].name, expected.policies[i].name);
      QCOMPARE(r.policies[i].kind, expected.policies[i].kind);
      QCOMPARE(r.policies[i].fast_share, expected.policies[i].fast_share);
      QCOMPARE(r.policies[i].stall_ns, expected.policies[i].stall_ns);
    }
    // 1.00 is every heap sample served at the fastest tier's 100 ns.
    const analyzer::PolicyResult* first_touch = Policy(r, "first-touch");
    QVERIFY(first_touch);
    QCOMPARE(StallRatio(r, *first_touch),
             first_touch->stall_ns / (double(r.heap_samples) * 100 * r.accesses_per_sample));
    QVERIFY(StallRatio(r, *first_touch) > 1);
    QCOMPARE(ReplayCaption(r),
             QStringLiteral("held out: replayed on kv-other-run.trace (another run)"));

    // The peak heap handed back to a later replay gives the same figures without measuring it.
    WhatIfReplay again = ReplayPlan(*data, tiers, other_run_, nullptr, {}, r.peak_heap_bytes);
    QVERIFY(again.result);
    for (size_t i = 0; i < r.policies.size(); ++i)
      QCOMPARE(again.result->policies[i].fast_share, r.policies[i].fast_share);

    // An empty fast tier (0 here) is the planner's 1 byte, as in Replan.
    tiers[0].capacity_bytes = 0;
    WhatIfReplay empty = ReplayPlan(*data, tiers, other_run_, nullptr, {});
    QVERIFY(empty.result);
    QCOMPARE(empty.result->tiers[0].capacity_bytes, uint64_t(1));
    QCOMPARE(Policy(*empty.result, "tierscope")->fast_share, 0.0);

    // Replayed on the trace it was learned from, it says so.
    WhatIfReplay in_sample = ReplayPlan(*data, tiers, trace_, nullptr, {});
    QVERIFY(in_sample.result);
    QVERIFY(!in_sample.result->held_out);
    QVERIFY(ReplayCaption(*in_sample.result).startsWith("IN-SAMPLE: "));
  }

  void DamagedOrCancelledReplaysSaySo() {
    auto data = ProfileSource::FromProfile(analyzer::AnalyzeTrace(trace_.toStdString()).profile);
    const std::vector<analyzer::TierSpec> tiers = InitialTiers(data->profile);

    // Garbage after the header: nothing replayed, one line naming the file.
    const QString bad = dir_.filePath("bad.trace");
    QVERIFY(testing::WriteDamagedCopy(other_run_.toStdString(), bad.toStdString()));
    WhatIfReplay broken = ReplayPlan(*data, tiers, bad, nullptr, {});
    QVERIFY(!broken.result);
    QVERIFY2(broken.error.startsWith(bad), qPrintable(broken.error));
    QVERIFY(!broken.error.contains('\n'));

    // Cut short: the figures cover the complete chunks, and the error stays.
    const QString cut = dir_.filePath("cut-other-run.trace");
    QVERIFY(QFile::copy(other_run_, cut));
    QFile c(cut);
    QVERIFY(c.resize(c.size() - 20));
    WhatIfReplay partial = ReplayPlan(*data, tiers, cut, nullptr, {});
    QVERIFY(partial.result);
    QVERIFY(partial.partial);
    QVERIFY2(partial.error.startsWith(cut), qPrintable(partial.error));
    QVERIFY(partial.result->heap_samples > 0);

    // Cancelled before it starts: no figures, no error.
    std::atomic<bool> cancel{true};
    WhatIfReplay cancelled = ReplayPlan(*data, tiers, other_run_, &cancel, {});
    QVERIFY(cancelled.cancelled);
    QVERIFY(!cancelled.result);
    QVERIFY(cancelled.error.isEmpty());

    // Unusable tiers: a line, not an exception.
    WhatIfReplay no_tiers = ReplayPlan(*data, {}, other_run_, nullptr, {});
    QVERIFY(!no_tiers.result);
    QVERIFY(!no_tiers.error.isEmpty());
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
