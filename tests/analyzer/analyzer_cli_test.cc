// The analyzer's subcommands end to end: exit codes, one-line errors, files they leave.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

#include "test_support.h"
#include "tierscope/formats/pprof_io.h"
#include "tierscope/formats/profile_io.h"
#include "trace_builder.h"

namespace tierscope::testing {
namespace {

int Lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

void ExpectOneLineError(const CommandResult& r, int code, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(Lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

void MakeTrace(const std::string& path) {
  TraceBuilder t(path);
  t.Allocs(1, {Alloc(100, 0x10000, 4096, 1), Alloc(110, 0x20000, 64, 2)});
  t.Samples(1, {Load(150, 0x10010), Load(160, 0x10020), Store(170, 0x20008)});
  t.Allocs(1, {Free(200, 0x10000)});
  t.Close();
}

TEST(AnalyzerCli, AnalyzeReportPlanExportMergeDiff) {
  TempDir dir;
  MakeTrace(dir.File("t"));
  auto a = RunCommand({TierscopeBin(), "analyze", dir.File("t"), "-o", dir.File("p")});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto p = formats::LoadProfile(dir.File("p"));
  ASSERT_EQ(p.sites_size(), 2);
  EXPECT_EQ(p.metadata().heap_samples(), 3u);

  auto text = RunCommand({TierscopeBin(), "report", dir.File("p")});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("prog+0x401000"), std::string::npos) << text.out;

  auto json =
      RunCommand({TierscopeBin(), "report", "--format", "json", "--top", "1", dir.File("p")});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  ASSERT_EQ(doc["sites"].size(), 1u);
  EXPECT_EQ(doc["heap_samples"], 3);

  auto csv = RunCommand({TierscopeBin(), "report", "--format", "csv", dir.File("p")});
  ASSERT_EQ(csv.exit_code, 0);
  EXPECT_EQ(Lines(csv.out), 3);  // header + 2 sites

  auto plan = RunCommand({TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=64", "--tier",
                          "slow=rest", "--latency", "fast=80ns,slow=250ns", "--min-gain", "0"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("oracle"), std::string::npos) << plan.out;
  p = formats::LoadProfile(dir.File("p"));
  ASSERT_TRUE(p.has_plan());
  ASSERT_EQ(p.plan().assignments_size(), p.sites_size());
  // 64 bytes of fast memory fit only the 64-byte site (1 store sample of 3).
  for (int i = 0; i < p.sites_size(); ++i) {
    EXPECT_EQ(p.plan().assignments(i).tier(), p.sites(i).bytes() == 64 ? "fast" : "slow");
  }
  EXPECT_EQ(p.tiers(0).latency_ns(), 80);

  auto exp = RunCommand({TierscopeBin(), "export", "--pprof", dir.File("x.pb.gz"), dir.File("p")});
  ASSERT_EQ(exp.exit_code, 0) << exp.err;
  EXPECT_EQ(formats::ReadPprof(dir.File("x.pb.gz")).sample_size(), 2);

  auto merge =
      RunCommand({TierscopeBin(), "merge", "-o", dir.File("m"), dir.File("p"), dir.File("p")});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  auto m = formats::LoadProfile(dir.File("m"));
  ASSERT_EQ(m.sites_size(), 2);
  EXPECT_EQ(m.metadata().heap_samples(), 6u);

  auto diff = RunCommand({TierscopeBin(), "diff", dir.File("p"), dir.File("m")});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("same"), std::string::npos) << diff.out;  // same temperature, same peak
}

// Without -o the profile goes beside the (first) trace, named after it, and the command says
// where: `tierscope analyze run.trace` as a new user types it.
TEST(AnalyzerCli, AnalyzeWritesBesideTheTraceWithoutOutput) {
  TempDir dir;
  MakeTrace(dir.File("run.trace"));
  const auto a = RunCommand({TierscopeBin(), "analyze", dir.File("run.trace")});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(Lines(a.err), 1) << a.err;
  EXPECT_NE(a.err.find(dir.File("run.tsprof")), std::string::npos) << a.err;
  EXPECT_EQ(formats::LoadProfile(dir.File("run.tsprof")).sites_size(), 2);
  MakeTrace(dir.File("other"));
  ASSERT_EQ(RunCommand({TierscopeBin(), "analyze", dir.File("other")}).exit_code, 0);
  EXPECT_EQ(formats::LoadProfile(dir.File("other.tsprof")).sites_size(), 2);
}

TEST(AnalyzerCli, APipeIsRefusedBeforeItIsRead) {
  // The streaming join reads the trace twice; a pipe can be read once.
  TempDir dir;
  MakeTrace(dir.File("t"));
  auto r = RunCommand({"/bin/sh", "-c",
                       "cat '" + dir.File("t") + "' | '" + TierscopeBin() +
                           "' analyze /dev/stdin -o '" + dir.File("p") + "'"});
  ExpectOneLineError(r, 2, "not a regular file");
}

TEST(AnalyzerCli, ErrorsAreOneLine) {
  TempDir dir;
  MakeTrace(dir.File("t"));
  ExpectOneLineError(RunCommand({TierscopeBin(), "analyze", dir.File("none"), "-o", dir.File("p")}),
                     2, dir.File("none"));
  ExpectOneLineError(RunCommand({TierscopeBin(), "analyze", dir.File("t"), "-o", "/no/dir/p"}), 2,
                     "/no/dir");
  ExpectOneLineError(RunCommand({TierscopeBin(), "report", dir.File("t")}), 1, "not a profile");
  ASSERT_EQ(RunCommand({TierscopeBin(), "analyze", dir.File("t"), "-o", dir.File("p")}).exit_code,
            0);
  ExpectOneLineError(RunCommand({TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=8Q"}), 2,
                     "8Q");
  ExpectOneLineError(RunCommand({TierscopeBin(), "plan", dir.File("p")}), 2, "--tier");
  ExpectOneLineError(RunCommand({TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=1M",
                                 "--tier", "slow=rest", "--min-gain", "2"}),
                     2, "--min-gain");
  ExpectOneLineError(RunCommand({TierscopeBin(), "report", "--format", "xml", dir.File("p")}), 2,
                     "--format");
  ExpectOneLineError(RunCommand({TierscopeBin(), "analyze", dir.File("p"), "-o", dir.File("q")}), 1,
                     "not a trace");
}

TEST(AnalyzerCli, TruncatedTraceStillWritesAProfileAndFails) {
  TempDir dir;
  MakeTrace(dir.File("t"));
  const std::string bytes = ReadBytes(dir.File("t"));
  WriteBytes(dir.File("cut"), bytes.substr(0, bytes.size() - 3));
  auto r = RunCommand({TierscopeBin(), "analyze", dir.File("cut"), "-o", dir.File("p")});
  ExpectOneLineError(r, 1, dir.File("cut") + ": byte ");
  auto p = formats::ReadProfile(dir.File("p"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p.profile.sites_size(), 2);  // the allocations came before the damaged chunk
}

TEST(AnalyzerCli, EvaluateReplaysAHeldOutTraceInEveryFormat) {
  TempDir dir;
  MakeTrace(dir.File("a"));
  MakeTrace(dir.File("b"));
  ASSERT_EQ(RunCommand({TierscopeBin(), "analyze", dir.File("a"), "-o", dir.File("p")}).exit_code,
            0);
  auto json = RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("b"),
                          "--tier", "fast=50%", "--tier", "slow=rest", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["held_out"], true);
  EXPECT_EQ(doc["heap_samples"], 3);
  EXPECT_EQ(doc["peak_heap_bytes"], 4096 + 64);
  EXPECT_EQ(doc["tiers"][0]["capacity_bytes"], (4096 + 64) / 2);
  std::set<std::string> names;
  for (const auto& p : doc["policies"]) {
    names.insert(p["name"].get<std::string>());
    EXPECT_GE(p["fast_share"].get<double>(), 0.0);
    EXPECT_LE(p["fast_share"].get<double>(), 1.0);
  }
  for (const char* want :
       {"tierscope", "first-touch", "interleave", "size-threshold", "random-sites",
        "hindsight-site-window", "hindsight-site-window-fixed", "hindsight-pages"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }

  auto text = RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("b"),
                          "--tier", "fast=2K", "--tier", "slow=rest"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("held out"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("first-touch"), std::string::npos) << text.out;
  // The table's rows line up whatever the longest name (hindsight-site-window-fixed): each
  // placement's fast share ends in the same column.
  std::set<size_t> share_ends;
  std::istringstream rows(text.out);
  for (std::string row; std::getline(rows, row);) {
    for (const std::string& name : names) {
      if (row.rfind(name + " ", 0) == 0) share_ends.insert(row.find('%'));
    }
  }
  EXPECT_EQ(share_ends.size(), 1u) << text.out;

  auto csv = RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("b"),
                         "--tier", "fast=2K", "--tier", "slow=rest", "--format", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(Lines(csv.out), 1 + static_cast<int>(names.size()));

  // No profile: learned from the trace itself, and said so.
  auto in_sample = RunCommand({TierscopeBin(), "evaluate", dir.File("b"), "--tier", "fast=2K",
                               "--tier", "slow=rest", "--format", "json"});
  ASSERT_EQ(in_sample.exit_code, 0) << in_sample.err;
  EXPECT_NE(in_sample.err.find("in-sample"), std::string::npos) << in_sample.err;
  EXPECT_EQ(nlohmann::json::parse(in_sample.out)["held_out"], false);
  // The plan made here is chosen as `plan` chooses it: --min-gain 1 leaves it to the kernel.
  auto kernel = RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("b"),
                            "--tier", "fast=2K", "--tier", "slow=rest", "--min-gain", "1"});
  ASSERT_EQ(kernel.exit_code, 0) << kernel.err;
  EXPECT_NE(kernel.out.find("placement left to the kernel's first touch"), std::string::npos)
      << kernel.out;

  // plan --evaluate-on: the same replay after planning; a share needs the trace.
  auto plan = RunCommand({TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=50%", "--tier",
                          "slow=rest", "--evaluate-on", dir.File("b")});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("replayed " + dir.File("b")), std::string::npos) << plan.out;
  // The profile now has a plan: evaluate takes its tiers when none are given.
  auto stored = RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("b")});
  ASSERT_EQ(stored.exit_code, 0) << stored.err;
}

TEST(AnalyzerCli, EvaluateErrorsAreOneLine) {
  TempDir dir;
  MakeTrace(dir.File("t"));
  ASSERT_EQ(RunCommand({TierscopeBin(), "analyze", dir.File("t"), "-o", dir.File("p")}).exit_code,
            0);
  ExpectOneLineError(RunCommand({TierscopeBin(), "evaluate", dir.File("none")}), 2,
                     dir.File("none"));
  ExpectOneLineError(
      RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("t")}), 2,
      "no plan to evaluate");
  // Without tiers the profile's own plan is replayed as it is: nothing to choose.
  ExpectOneLineError(RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"),
                                 dir.File("t"), "--min-gain", "0"}),
                     2, "--min-gain");
  ExpectOneLineError(RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("p"),
                                 dir.File("t"), "--tier", "fast=150%", "--tier", "slow=rest"}),
                     2, "150%");
  ExpectOneLineError(RunCommand({TierscopeBin(), "evaluate", "--profile", dir.File("t"),
                                 dir.File("t"), "--tier", "fast=1K", "--tier", "slow=rest"}),
                     1, "not a profile");
  ExpectOneLineError(RunCommand({TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=25%",
                                 "--tier", "slow=rest"}),
                     2, "--evaluate-on");
}

}  // namespace
}  // namespace tierscope::testing
