// The placer preloaded into real programs: same output as plain runs, plans that route sites to
// tiers (checked against jemalloc's own arena lookup and the kernel's page placement in the
// stats), the budget guard, and bad input that degrades to default placement with one line.
#include <gtest/gtest.h>
#include <numaif.h>
#include <sys/stat.h>

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "plan_helper.h"
#include "test_support.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::testing {
namespace {

using nlohmann::json;

std::string Lib() {
  return BuildDir() + "/lib/libtierscope-placer.so";
}
std::string Probe() {
  return BuildDir() + "/tests/placer/ts-placer-probe";
}

constexpr const char* kTwoTiers = "fast=node:0;slow=node:0,thp=off";

std::string Fork() {
  return BuildDir() + "/tests/placer/ts-placer-fork";
}

int Lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

json ReadJson(const std::string& path) {
  return json::parse(ReadBytes(path));
}

// `tierscope run`'s stderr ends with its summary line: the line (without its prefix), and the
// program's own stderr before it in *before. Empty when the last line is not a summary.
std::string SummaryOf(const std::string& err, std::string* before = nullptr) {
  const std::string prefix = "tierscope run: ";
  if (err.empty() || err.back() != '\n') return "";
  const auto start = err.rfind('\n', err.size() - 2);
  const size_t line = start == std::string::npos ? 0 : start + 1;
  if (err.compare(line, prefix.size(), prefix) != 0) return "";
  if (before) *before = err.substr(0, line);
  return err.substr(line + prefix.size(), err.size() - 1 - line - prefix.size());
}

// Whether the placer finds one memory tier here (it then says so once).
bool OneTierMachine() {
  return RunCommand({TierscopeBin(), "topology"}).out.find("one memory tier") != std::string::npos;
}

// Plans every site of `profile`, alternately on fast and slow.
void AssignAlternately(profile::ProfileChunk* profile) {
  int i = 0;
  for (const auto& site : profile->sites()) {
    auto* a = profile->mutable_plan()->add_assignments();
    a->set_site_id(site.id());
    a->set_tier(i++ % 2 ? "slow" : "fast");
  }
}

// A profile with every site the program learned (at `depth`) in the plan, alternately on fast
// and slow: DIR/plan.tsp.
void PlanEverySite(const TempDir& dir, const std::vector<std::string>& program, int depth) {
  std::vector<std::string> learn = {TierscopeBin(),
                                    "run",
                                    "-q",
                                    "--tiers",
                                    kTwoTiers,
                                    "--depth",
                                    std::to_string(depth),
                                    "--learn",
                                    dir.File("learned.tsp"),
                                    "--"};
  learn.insert(learn.end(), program.begin(), program.end());
  const auto learned = RunCommand(learn);
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  auto profile = formats::LoadProfile(dir.File("learned.tsp"));
  AssignAlternately(&profile);
  profile.mutable_plan()->set_site_depth(depth);
  formats::WriteProfile(dir.File("plan.tsp"), profile);
}

const json& Tier(const json& stats, const std::string& name) {
  for (const auto& t : stats["tiers"]) {
    if (t["name"] == name) return t;
  }
  static json none;
  ADD_FAILURE() << "no tier " << name << " in " << stats.dump();
  return none;
}

struct Program {
  std::vector<std::string> argv;
  std::string input;
};

std::vector<Program> RealPrograms(const TempDir& dir) {
  WriteBytes(dir.File("q.sql"),
             "create table t(a,b); insert into t values(1,'x'),(2,'y');"
             "insert into t select a+2, b||b from t; select count(*), group_concat(b) from t;\n");
  return {
      {{"/usr/bin/python3", "-c",
        "import json,collections\nd={str(i):list(range(i%50)) for i in range(20000)}\n"
        "print(len(json.dumps(d)), sum(collections.Counter(str(i%97) for i in "
        "range(50000)).values()))"},
       ""},
      {{"/usr/bin/perl", "-e",
        "my %h; $h{$_}=[1..($_%40)] for 1..20000; my $s=0; $s+=scalar(@{$h{$_}}) for keys %h; "
        "print \"$s\\n\";"},
       ""},
      {{"/usr/bin/git", "--version"}, ""},
      {{"/usr/bin/sqlite3", ":memory:", ".read " + dir.File("q.sql")}, ""},
      {{ExampleBin("ts-example-stress"), "--threads", "2", "--ops", "200000", "--depth", "3"}, ""},
      // Every C and C++ allocation entry point, with alignment and content checks.
      {{ExampleBin("ts-example-allocapi")}, ""},
  };
}

// Learns ts-example-kvcache's sites (2000 ops) and writes DIR/plan.tsp with every kv_alloc_*
// site on `tier`.
void PlanKvcacheSitesOn(const TempDir& dir, const std::string& kv, const std::string& tier) {
  ASSERT_EQ(RunCommand({TierscopeBin(), "run", "--tiers", kTwoTiers, "--learn",
                        dir.File("learned.tsp"), "--", kv, "--ops", "2000"})
                .exit_code,
            0);
  auto profile = MakePlan(dir.File("learned.tsp"), kv, [&](const std::string& fn) {
    return fn.rfind("kv_alloc_", 0) == 0 ? tier : std::string();
  });
  formats::WriteProfile(dir.File("plan.tsp"), profile);
}

// Runs `program` under `tierscope run` with dir's plan.tsp on kTwoTiers, stats to stats.json,
// and `flags`.
CommandResult RunPlaced(const TempDir& dir, const std::vector<std::string>& program,
                        const std::string& input = "", const std::vector<std::string>& flags = {}) {
  std::vector<std::string> run = {TierscopeBin(), "run",     "--profile", dir.File("plan.tsp"),
                                  "--tiers",      kTwoTiers, "--stats",   dir.File("stats.json")};
  run.insert(run.end(), flags.begin(), flags.end());
  run.push_back("--");
  run.insert(run.end(), program.begin(), program.end());
  return RunCommand(run, {}, input);
}

TEST(PlacerRun, RealProgramsGiveTheSameOutputUnderThePlacer) {
  TempDir dir;
  for (const auto& program : RealPrograms(dir)) {
    const auto plain = RunCommand(program.argv, {}, program.input);
    ASSERT_EQ(plain.exit_code, 0) << program.argv[0] << plain.err;
    std::vector<std::string> argv = {TierscopeBin(),
                                     "run",
                                     "--tiers",
                                     kTwoTiers,
                                     "--stats",
                                     dir.File("stats.json"),
                                     "--learn",
                                     dir.File("learned.tsp"),
                                     "--"};
    argv.insert(argv.end(), program.argv.begin(), program.argv.end());
    const auto placed = RunCommand(argv, {}, program.input);
    EXPECT_EQ(placed.exit_code, 0) << program.argv[0] << placed.err;
    EXPECT_EQ(placed.out, plain.out) << program.argv[0];
    std::string err;
    EXPECT_NE(SummaryOf(placed.err, &err), "") << placed.err;
    EXPECT_EQ(err, plain.err) << program.argv[0];
    const json stats = ReadJson(dir.File("stats.json"));
    EXPECT_GT(stats["unknown_sites"].get<uint64_t>(), 0u) << program.argv[0];  // learning saw sites
    const auto learned = formats::ReadProfile(dir.File("learned.tsp"));
    ASSERT_TRUE(learned.ok()) << program.argv[0];
    EXPECT_GT(learned.profile.sites_size(), 0) << program.argv[0];
  }
}

// Routes every learned site of a real program (whatever function) alternately to fast and slow.
TEST(PlacerRun, RealProgramsUnderAPlanThatRoutesTheirSitesToSeveralTiers) {
  TempDir dir;
  for (const auto& program : RealPrograms(dir)) {
    std::vector<std::string> learn = {
        TierscopeBin(),          "run", "--tiers", kTwoTiers, "--depth", "2", "--learn",
        dir.File("learned.tsp"), "--"};
    learn.insert(learn.end(), program.argv.begin(), program.argv.end());
    const auto plain = RunCommand(learn, {}, program.input);
    ASSERT_EQ(plain.exit_code, 0) << plain.err;
    auto profile = formats::LoadProfile(dir.File("learned.tsp"));
    AssignAlternately(&profile);
    profile.mutable_plan()->set_site_depth(2);
    formats::WriteProfile(dir.File("plan.tsp"), profile);
    const auto placed = RunPlaced(dir, program.argv, program.input);
    EXPECT_EQ(placed.exit_code, 0) << placed.err;
    EXPECT_EQ(placed.out, plain.out) << program.argv[0];
    const json stats = ReadJson(dir.File("stats.json"));
    EXPECT_EQ(stats["placement"], "plan");
    EXPECT_GT(stats["plan_hits"].get<uint64_t>(), 0u) << program.argv[0];
    EXPECT_GT(Tier(stats, "fast")["allocations"].get<uint64_t>(), 0u) << program.argv[0];
    EXPECT_GT(Tier(stats, "slow")["allocations"].get<uint64_t>(), 0u) << program.argv[0];
  }
}

// The whole chain on a distribution binary built without frame pointers: record -> analyze ->
// plan -> run, with no unwinder flag. The plan's keys are deeper than frame 0 (the planner's depth,
// or 8 when it chose 1), and nearly every allocation of a planned site must match its key: with
// frame pointers as the default walk, frames below 0 were wrong here and nothing matched.
TEST(PlacerRun, DistributionPythonMatchesThePlanWithDefaultFlags) {
  const std::string python = "/usr/bin/python3.11";
  ASSERT_EQ(access(python.c_str(), X_OK), 0)
      << python << " is missing (scripts/install-deps installs Debian's python3)";
  TempDir dir;
  const std::vector<std::string> program = {
      python, "-c",
      "import json; d={str(i): [i, str(i)] for i in range(60000)}; print(len(json.dumps(d)))"};
  std::vector<std::string> record = {
      TierscopeBin(), "record", "-q", "--sampler", "timer", "-o", dir.File("p.trace"), "--"};
  record.insert(record.end(), program.begin(), program.end());
  // The share measures the walk, not Python: its per-run hash seed changes which dict and set
  // resizes happen, up to ~1 % of allocations from sites the recording never saw.
  const std::vector<std::string> env = {"PYTHONHASHSEED=0"};
  const auto recorded = RunCommand(record, env);
  ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
  const auto analyzed =
      RunCommand({TierscopeBin(), "analyze", dir.File("p.trace"), "-o", dir.File("p.prof")});
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.err;
  const auto planned = RunCommand(
      {TierscopeBin(), "plan", dir.File("p.prof"), "--tier", "fast=4M", "--tier", "slow=rest",
       "--min-gain", "0"});  // a plan to match even where first touch would do as well
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
  auto profile = formats::LoadProfile(dir.File("p.prof"));
  ASSERT_GT(profile.plan().assignments_size(), 0);
  if (profile.plan().site_depth() < 2) {
    profile.mutable_plan()->set_site_depth(8);  // keys at depth 1 would not test the stack walk
    formats::WriteProfile(dir.File("p.prof"), profile);
  }
  std::vector<std::string> run = {
      TierscopeBin(),         "run", "--profile", dir.File("p.prof"), "--stats",
      dir.File("stats.json"), "--"};
  run.insert(run.end(), program.begin(), program.end());
  const auto placed = RunCommand(run, env);
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, recorded.out);
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_GE(stats["site_depth"].get<int>(), 2);
  EXPECT_EQ(stats["unwinder"], "auto");  // the default walk
  const double hits = stats["plan_hits"].get<double>();
  const double unknown = stats["unknown_sites"].get<double>();
  ASSERT_GT(hits + unknown, 1000) << stats.dump();
  EXPECT_GE(hits / (hits + unknown), 0.99) << stats.dump();
  // The default walk steps by the unwind tables and leaves next to nothing to libunwind (it goes
  // only as deep as the plan's per-prefix rules ask, so some stacks past their first frame);
  // checked against libunwind at every allocation, it finds the same frames.
  EXPECT_LT(stats["libunwind_walks"].get<double>(), 0.001 * (hits + unknown)) << stats.dump();
  EXPECT_GT(stats["frames_read"].get<uint64_t>(), stats["deep_lookups"].get<uint64_t>());
  EXPECT_GT(stats["step_rules"].get<uint64_t>(), 0u) << stats.dump();
  run.insert(run.begin() + 2, {"--unwind", "check"});
  const auto checked = RunCommand(run, env);
  ASSERT_EQ(checked.exit_code, 0) << checked.err;
  EXPECT_EQ(checked.out, recorded.out);
  const json check = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(check["unwinder"], "check");
  EXPECT_GT(check["walk_checks"].get<uint64_t>(), 1000u) << check.dump();
  EXPECT_EQ(check["walk_mismatches"].get<uint64_t>(), 0u) << check.dump();
}

// The default walk in code built with frame pointers (the stress example): the unwind tables'
// rules step through every frame (the frame pointer's rule here, the C library's start code's
// own), none is left to libunwind, and every allocation of the plan's sites at depth 3 matches.
TEST(PlacerRun, TheDefaultWalkStepsByTheUnwindTables) {
  TempDir dir;
  const std::vector<std::string> program = {
      ExampleBin("ts-example-stress"), "--threads", "2", "--ops", "20000", "--depth", "3"};
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, program, 3));
  const auto placed = RunPlaced(dir, program);
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(stats["unwinder"], "auto");
  EXPECT_EQ(stats["site_depth"], 3);
  EXPECT_GE(stats["plan_hits"].get<uint64_t>(), 40000u);
  // The only allocations left unknown are those whose first look-up met the other thread's
  // (a miss that finds the miss lock taken is not waited for: ResolveMiss); a walk that read
  // other frames would add more. It was 0 here, and failed one run in three.
  EXPECT_EQ(stats["unknown_sites"].get<uint64_t>(), stats["busy_misses"].get<uint64_t>())
      << stats.dump();
  // A few first look-ups (more only while the lock's holder is descheduled).
  EXPECT_LE(stats["busy_misses"].get<uint64_t>() * 100, stats["plan_hits"].get<uint64_t>());
  EXPECT_EQ(stats["libunwind_walks"].get<uint64_t>(), 0u) << stats.dump();
}

// Per-prefix rules (PlacementIndex.prefix_keys): the placer reads a stack's frames innermost
// first and stops where the plan's rules decide. Every site on one tier: the first frame decides
// all of them. Sites alternately on two tiers: stacks are walked as deep as they must be. Either
// way each allocation goes where the plan without rules (full keys, as plans written before
// them) puts it.
TEST(PlacerRun, ThePrefixRulesStopTheWalkWhereTheInnermostFramesDecide) {
  TempDir dir;
  const std::vector<std::string> program = {
      ExampleBin("ts-example-stress"), "--threads", "1", "--ops", "20000", "--depth", "3"};
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, program, 3));
  // The same plan without its rules: the plan's chunk rewritten, the sites' kept.
  auto strip_rules = [&](const std::string& from, const std::string& to) {
    formats::ContainerReader in(dir.File(from));
    formats::ContainerWriter out(dir.File(to), formats::FileKind::kProfile);
    std::string raw;
    while (in.Next(&raw)) {
      profile::ProfileChunk chunk;
      ASSERT_TRUE(chunk.ParseFromString(raw));
      if (chunk.has_plan()) {
        ASSERT_TRUE(chunk.plan().index().has_prefix_rules());
        profile::PlacementIndex* index = chunk.mutable_plan()->mutable_index();
        index->clear_prefix_keys();
        index->clear_prefix_assignments();
        index->clear_has_prefix_rules();
        raw = chunk.SerializeAsString();
      }
      out.Append(raw);
    }
    out.Close();
  };
  auto placed = [&](const std::string& plan) {
    std::vector<std::string> run = {TierscopeBin(),         "run",     "-q",      "--profile",
                                    dir.File(plan),         "--tiers", kTwoTiers, "--stats",
                                    dir.File("stats.json"), "--"};
    run.insert(run.end(), program.begin(), program.end());
    const auto r = RunCommand(run);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadJson(dir.File("stats.json"));
  };
  auto expect_same_placement = [&](const json& rules, const json& keys) {
    EXPECT_GT(rules["prefix_rules"].get<uint64_t>(), 0u);
    EXPECT_EQ(keys["prefix_rules"], 0);
    for (const char* key : {"plan_hits", "unknown_sites", "deep_lookups"}) {
      EXPECT_EQ(rules[key], keys[key]) << key;
    }
    EXPECT_EQ(Tier(rules, "fast")["allocations"], Tier(keys, "fast")["allocations"]);
    EXPECT_EQ(Tier(rules, "slow")["allocations"], Tier(keys, "slow")["allocations"]);
    EXPECT_EQ(keys["frames_read"].get<uint64_t>(), 3 * keys["deep_lookups"].get<uint64_t>());
    EXPECT_GT(rules["deep_lookups"].get<uint64_t>(), 20000u);
  };

  strip_rules("plan.tsp", "keys.tsp");
  const json alternate = placed("plan.tsp");
  const json alternate_keys = placed("keys.tsp");
  expect_same_placement(alternate, alternate_keys);
  EXPECT_LE(alternate["frames_read"], alternate_keys["frames_read"]);

  auto profile = formats::LoadProfile(dir.File("plan.tsp"));
  for (auto& a : *profile.mutable_plan()->mutable_assignments()) a.set_tier("fast");
  formats::WriteProfile(dir.File("fast.tsp"), profile);
  strip_rules("fast.tsp", "fast-keys.tsp");
  const json fast = placed("fast.tsp");
  const json fast_keys = placed("fast-keys.tsp");
  expect_same_placement(fast, fast_keys);
  EXPECT_EQ(fast["frames_read"], fast["deep_lookups"]) << fast.dump();  // one frame each
  EXPECT_EQ(Tier(fast, "slow")["allocations"], 0);
}

// learn -> plan -> run on the key-value example: the hot index and the values on fast, the log
// and archive on slow; the stats show the bytes and the resident pages on each tier.
TEST(PlacerRun, KvcachePlanPutsEachSiteOnItsTier) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  const std::vector<std::string> args = {kv, "--ops", "20000"};
  auto learn = RunCommand({TierscopeBin(), "run", "--tiers", kTwoTiers, "--learn",
                           dir.File("learned.tsp"), "--", kv, "--ops", "20000"});
  ASSERT_EQ(learn.exit_code, 0) << learn.err;
  auto profile = MakePlan(dir.File("learned.tsp"), kv, [](const std::string& fn) -> std::string {
    if (fn == "kv_alloc_index" || fn == "kv_alloc_value") return "fast";
    if (fn == "kv_alloc_log" || fn == "kv_alloc_archive_chunk") return "slow";
    return "";
  });
  ASSERT_GE(profile.plan().assignments_size(), 4);
  formats::WriteProfile(dir.File("plan.tsp"), profile);
  const auto plain = RunCommand(args);
  const auto placed =
      RunCommand({TierscopeBin(), "run", "--profile", dir.File("plan.tsp"), "--tiers", kTwoTiers,
                  "--stats", dir.File("stats.json"), "--", kv, "--ops", "20000"});
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, plain.out);
  const json stats = ReadJson(dir.File("stats.json"));
  const json& fast = Tier(stats, "fast");
  const json& slow = Tier(stats, "slow");
  // kv_alloc_log: 16 MiB, kv_alloc_archive_chunk: 4 x 8 MiB.
  EXPECT_GE(slow["bytes_allocated"].get<uint64_t>(), 48ull << 20);
  EXPECT_LT(slow["bytes_allocated"].get<uint64_t>(), 49ull << 20);
  // The index (2 MiB) and ~76 MiB of values.
  EXPECT_GE(fast["bytes_allocated"].get<uint64_t>(), 70ull << 20);
  EXPECT_GT(stats["plan_hits"].get<uint64_t>(), 65536u);
  EXPECT_GT(fast["resident_by_node"]["0"].get<uint64_t>(), 64ull << 20);
  EXPECT_EQ(fast["fallbacks"].get<uint64_t>(), 0u);
}

// Sites inside a library loaded by dlopen after the placer started (and unloaded, and loaded
// again at each round) are still matched: module + offset, not raw addresses.
TEST(PlacerRun, SitesInADlopenedLibraryFollowThePlan) {
  TempDir dir;
  const std::string prog = ExampleBin("ts-example-dlopen");
  const std::vector<std::string> args = {prog, "--rounds", "3", "--blocks", "2000"};
  std::vector<std::string> learn = {TierscopeBin(),          "run", "--tiers", kTwoTiers, "--learn",
                                    dir.File("learned.tsp"), "--"};
  learn.insert(learn.end(), args.begin(), args.end());
  ASSERT_EQ(RunCommand(learn).exit_code, 0);
  auto profile = formats::LoadProfile(dir.File("learned.tsp"));
  int plugin_sites = 0;
  for (const auto& site : profile.sites()) {
    const bool in_plugin =
        site.stack(0).module().find("libts-example-plugin.so") != std::string::npos;
    plugin_sites += in_plugin;
    auto* a = profile.mutable_plan()->add_assignments();
    a->set_site_id(site.id());
    a->set_tier(in_plugin ? "slow" : "fast");
  }
  ASSERT_GT(plugin_sites, 0);
  profile.mutable_plan()->set_site_depth(profile.metadata().site_depth());
  formats::WriteProfile(dir.File("plan.tsp"), profile);
  const auto plain = RunCommand(args);
  const auto placed = RunPlaced(dir, args);
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, plain.out);
  const json stats = ReadJson(dir.File("stats.json"));
  // Every round's plugin blocks: 3 x 2000.
  EXPECT_GE(Tier(stats, "slow")["allocations"].get<uint64_t>(), 6000u) << stats.dump();
}

TEST(PlacerRun, BudgetGuardSpillsToTheNextTier) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanKvcacheSitesOn(dir, kv, "fast"));  // everything hot
  const auto plain = RunCommand({kv, "--ops", "2000"});
  const auto placed = RunCommand({TierscopeBin(), "run", "--profile", dir.File("plan.tsp"),
                                  "--tiers", "fast=node:0,capacity=8M;slow=node:0", "--stats",
                                  dir.File("stats.json"), "--", kv, "--ops", "2000"});
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, plain.out);
  const json stats = ReadJson(dir.File("stats.json"));
  const json& fast = Tier(stats, "fast");
  EXPECT_GT(fast["fallbacks"].get<uint64_t>(), 0u);
  EXPECT_GT(fast["budget_refusals"].get<uint64_t>(), 0u);
  // The budget plus 4 MiB of jemalloc metadata per arena of the tier.
  EXPECT_LE(fast["footprint_bytes"].get<uint64_t>(),
            (8ull << 20) + (4ull << 20) * fast["arenas"].size());
  EXPECT_GT(Tier(stats, "slow")["bytes_allocated"].get<uint64_t>(), 100ull << 20);
}

// The probe links the placer and asks jemalloc (arenas.lookup) where each block lives.
TEST(PlacerRun, RoutedSitesAndHintsComeFromTheirTierArenas) {
  TempDir dir;
  const std::vector<std::string> tiers = {"TIERSCOPE_TIERS=fast=node:0;slow=node:0,thp=off"};
  auto env = tiers;
  env.push_back("TIERSCOPE_PLACER_SITES=" + dir.File("learned.tsp"));
  env.push_back("TIERSCOPE_PLACER_DEPTH=1");
  ASSERT_EQ(RunCommand({Probe()}, env).exit_code, 0);
  auto profile = MakePlan(dir.File("learned.tsp"), Probe(), [](const std::string& fn) {
    return fn == "probe_site_a" ? "slow" : fn == "probe_site_b" ? "fast" : "";
  });
  ASSERT_EQ(profile.plan().assignments_size(), 2);
  formats::WriteProfile(dir.File("plan.tsp"), profile);
  // The primary placement (jemalloc's own fast paths) is fast, slow or the default placement:
  // every block lands on its tier whichever it is.
  for (const std::string primary : {"", "fast", "slow", "default"}) {
    SCOPED_TRACE("primary placement " + primary);
    env = tiers;
    env.push_back("TIERSCOPE_PROFILE=" + dir.File("plan.tsp"));
    env.push_back("TIERSCOPE_PLACER_STATS=" + dir.File("stats.json"));
    if (!primary.empty()) env.push_back("TIERSCOPE_PLACER_PRIMARY=" + primary);
    const auto run = RunCommand({Probe()}, env);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const json stats = ReadJson(dir.File("stats.json"));
    if (!primary.empty()) {
      EXPECT_EQ(stats["primary_placement"], primary);
    }
    const json fast_arenas = Tier(stats, "fast")["arenas"];
    const json slow_arenas = Tier(stats, "slow")["arenas"];
    auto expect = [&](const std::string& what, int tier, const json& arenas) {
      const std::string prefix = what + " tier=" + std::to_string(tier) + " arena=";
      const auto at = run.out.find(prefix);
      ASSERT_NE(at, std::string::npos) << prefix << " in:\n" << run.out;
      const unsigned arena = std::stoul(run.out.substr(at + prefix.size()));
      bool found = false;
      for (const auto& a : arenas) found |= a.get<unsigned>() == arena;
      EXPECT_TRUE(found) << what << ": jemalloc says arena " << arena << ", tier's are "
                         << arenas.dump();
    };
    expect("site_a", 1, slow_arenas);
    expect("site_b", 0, fast_arenas);
    expect("site_a_realloc", 1, slow_arenas);
    expect("hint_hot", 0, fast_arenas);
    expect("hint_cold", 1, slow_arenas);
    expect("hint_slow", 1, slow_arenas);
    EXPECT_NE(run.out.find("hint_unknown tier=-1 "), std::string::npos) << run.out;
    EXPECT_EQ(Tier(stats, "fast")["hint_calls"].get<uint64_t>(), 1u);
    EXPECT_EQ(Tier(stats, "slow")["hint_calls"].get<uint64_t>(), 2u);
  }
}

std::string QuotaProgram() {
  return BuildDir() + "/tests/placer/ts-placer-quota";
}

// Learns ts-placer-quota's sites (depth 1) in `mode` and plans them by function: `choose` gives
// the tier, `quota` the quota bytes of quota_site's assignment (0: none). DIR/plan.tsp.
void PlanQuotaProgram(const TempDir& dir, const std::vector<std::string>& learn_args,
                      const std::function<std::string(const std::string&)>& choose,
                      uint64_t quota) {
  const auto learned = RunCommand(
      [&] {
        std::vector<std::string> argv = {QuotaProgram()};
        argv.insert(argv.end(), learn_args.begin(), learn_args.end());
        return argv;
      }(),
      {std::string("TIERSCOPE_TIERS=") + kTwoTiers,
       "TIERSCOPE_PLACER_SITES=" + dir.File("learned.tsp"), "TIERSCOPE_PLACER_DEPTH=1"});
  ASSERT_EQ(learned.exit_code, 0) << learned.err;
  auto profile = MakePlan(dir.File("learned.tsp"), QuotaProgram(), choose);
  const auto functions = FunctionRanges(QuotaProgram());
  std::map<uint64_t, std::string> function_of;
  for (const auto& site : profile.sites()) {
    if (site.stack_size() > 0)
      function_of[site.id()] = FunctionAt(functions, site.stack(0).offset());
  }
  int quota_sites = 0;
  for (auto& a : *profile.mutable_plan()->mutable_assignments()) {
    if (quota != 0 && function_of[a.site_id()] == "quota_site") {
      a.set_quota_bytes(quota);
      ++quota_sites;
    }
  }
  if (quota != 0) {
    ASSERT_EQ(quota_sites, 1);
  }
  formats::WriteProfile(dir.File("plan.tsp"), profile);
}

// Tiers of a batch line ("batch1 0 0 1 ..."): how many blocks on each.
std::map<int, int> BatchTiers(const std::string& out, const std::string& batch) {
  std::map<int, int> count;
  const auto at = out.find(batch + " ");
  if (at == std::string::npos) return count;
  std::istringstream line(out.substr(at + batch.size(), out.find('\n', at) - at - batch.size()));
  int tier;
  while (line >> tier) ++count[tier];
  return count;
}

// A site planned fast with a quota of K of its blocks' bytes: of N live blocks, K are on the fast
// tier and the rest on the next (slow) one; once they are freed, the quota is free again and the
// next batch gets the same split. Whichever placement jemalloc's own fast paths serve.
TEST(PlacerRun, AQuotaSiteFillsItsTierUpToTheQuotaAndFreesGiveTheRoomBack) {
  TempDir dir;
  constexpr int kBlocks = 12, kQuotaBlocks = 5;
  constexpr uint64_t kBlock = 64 << 10;  // a jemalloc size class: usable size = size
  PlanQuotaProgram(
      dir, {"quota", "2"}, [](const std::string& fn) { return fn == "quota_site" ? "fast" : ""; },
      kQuotaBlocks * kBlock);
  for (const std::string primary : {"", "fast", "slow", "default"}) {
    SCOPED_TRACE("primary placement " + primary);
    std::vector<std::string> env = {std::string("TIERSCOPE_TIERS=") + kTwoTiers,
                                    "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
                                    "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json")};
    if (!primary.empty()) env.push_back("TIERSCOPE_PLACER_PRIMARY=" + primary);
    const auto run = RunCommand({QuotaProgram(), "quota", std::to_string(kBlocks)}, env);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_EQ(run.err, "");
    for (const std::string batch : {"batch1", "batch2"}) {
      const auto tiers = BatchTiers(run.out, batch);
      EXPECT_EQ(tiers, (std::map<int, int>{{0, kQuotaBlocks}, {1, kBlocks - kQuotaBlocks}}))
          << batch << " in:\n"
          << run.out;
    }
    // The first K blocks of a batch take the quota (allocation order).
    EXPECT_NE(run.out.find("batch1 0 0 0 0 0 1 "), std::string::npos) << run.out;
    const json stats = ReadJson(dir.File("stats.json"));
    ASSERT_EQ(stats["quotas"].size(), 1u) << stats.dump();
    const json& quota = stats["quotas"][0];
    EXPECT_EQ(quota["tier"], "fast");
    EXPECT_EQ(quota["next_tier"], "slow");
    EXPECT_EQ(quota["quota_bytes"].get<uint64_t>(), kQuotaBlocks * kBlock);
    EXPECT_EQ(quota["allocations"].get<uint64_t>(), 2u * kQuotaBlocks);
    EXPECT_EQ(quota["over_quota"].get<uint64_t>(), 2u * (kBlocks - kQuotaBlocks));
    EXPECT_EQ(quota["peak_bytes"].get<uint64_t>(), kQuotaBlocks * kBlock);
    EXPECT_EQ(quota["used_bytes"].get<uint64_t>(), 0u);  // every block was freed
    // Only the quota site is planned (the rest: the default placement), so the tiers' counts are
    // its blocks.
    EXPECT_EQ(Tier(stats, "fast")["allocations"].get<uint64_t>(), 2u * kQuotaBlocks);
    EXPECT_EQ(Tier(stats, "slow")["allocations"].get<uint64_t>(), 2u * (kBlocks - kQuotaBlocks));
    EXPECT_EQ(stats["quota_sites_dropped"].get<uint64_t>(), 0u);
    // The quota's arena is listed with its tier's.
    bool listed = false;
    for (const auto& a : Tier(stats, "fast")["arenas"]) listed |= a == quota["arena"];
    EXPECT_TRUE(listed) << stats.dump();
  }
}

// Without the quota the same site is fast whole: the quota is what split it.
TEST(PlacerRun, TheSameSiteWithoutAQuotaGoesToItsTierWhole) {
  TempDir dir;
  PlanQuotaProgram(
      dir, {"quota", "2"}, [](const std::string& fn) { return fn == "quota_site" ? "fast" : ""; },
      0);
  const auto run = RunCommand(
      {QuotaProgram(), "quota", "12"},
      {std::string("TIERSCOPE_TIERS=") + kTwoTiers, "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
       "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(BatchTiers(run.out, "batch1"), (std::map<int, int>{{0, 12}})) << run.out;
  EXPECT_EQ(ReadJson(dir.File("stats.json"))["quotas"].size(), 0u);
}

// A large block the fast tier has room for part of is split, not spilled whole: its first pages
// on the fast tier (its policy), the rest on the slow one, as first-touch would place its pages.
// Freeing it gives the room back; a realloc moves it whole, content and all.
TEST(PlacerRun, ALargeBlockTheFastTierCannotHoldWholeIsSplitAcrossTheTiers) {
  TempDir dir;
  PlanQuotaProgram(
      dir, {"split", "1"}, [](const std::string& fn) { return fn == "big_site" ? "fast" : ""; }, 0);
  const auto run =
      RunCommand({QuotaProgram(), "split", "12"},
                 {"TIERSCOPE_TIERS=fast=node:0,capacity=40M;slow=node:0,policy=preferred,thp=off",
                  "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
                  "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string bind = "first=" + std::to_string(MPOL_BIND);
  const std::string preferred = "last=" + std::to_string(MPOL_PREFERRED);
  // Whole on the fast tier until it is full, then one block in the slow tier's arena whose first
  // page has the fast tier's policy and whose last page the slow tier's.
  std::istringstream lines(run.out);
  std::string line, split_line;
  int whole_fast = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("big ", 0) != 0) continue;
    if (line.find(" tier=0 ") != std::string::npos) {
      ++whole_fast;
      EXPECT_NE(line.find(bind), std::string::npos) << line;
    } else {
      split_line = line;
    }
  }
  EXPECT_GE(whole_fast, 1) << run.out;
  EXPECT_NE(split_line.find(" tier=1 " + bind + " " + preferred), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("split_realloc content=ok"), std::string::npos) << run.out;
  // Everything freed: the next block is on the fast tier whole again.
  EXPECT_NE(run.out.find("again 0 tier=0 " + bind), std::string::npos) << run.out;
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(Tier(stats, "fast")["split_blocks"].get<uint64_t>(), 1u) << stats.dump();
  EXPECT_EQ(Tier(stats, "fast")["mapped_bytes"].get<uint64_t>(), 0u);  // its charge given back
}

// The realloc rule: a realloc from a site the plan names puts the block where the plan puts that
// site (moving it, content and all); from a site it does not name, the block keeps its tier.
TEST(PlacerRun, AReallocFromAPlannedSiteMovesTheBlockToThatSitesTier) {
  TempDir dir;
  PlanQuotaProgram(
      dir, {"realloc"},
      [](const std::string& fn) {
        return fn == "slow_site" ? "slow" : fn == "planned_realloc" ? "fast" : "";
      },
      0);
  for (const std::string primary : {"", "fast", "slow", "default"}) {
    SCOPED_TRACE("primary placement " + primary);
    std::vector<std::string> env = {std::string("TIERSCOPE_TIERS=") + kTwoTiers,
                                    "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
                                    "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json")};
    if (!primary.empty()) env.push_back("TIERSCOPE_PLACER_PRIMARY=" + primary);
    const auto run = RunCommand({QuotaProgram(), "realloc"}, env);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(run.out.find("slow_block tier=1 content=ok"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("planned_realloc tier=0 content=ok"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("unplanned_realloc_of_fast tier=0 content=ok"), std::string::npos)
        << run.out;
    EXPECT_NE(run.out.find("unplanned_realloc_of_slow tier=1 content=ok"), std::string::npos)
        << run.out;
    EXPECT_NE(run.out.find("planned_realloc_of_slow tier=0 content=ok"), std::string::npos)
        << run.out;
    // Each realloc placed on a tier counts as an allocation there (as in the replay): fast gets
    // the two planned reallocs and the unplanned one of a fast block.
    const json stats = ReadJson(dir.File("stats.json"));
    EXPECT_EQ(Tier(stats, "fast")["allocations"].get<uint64_t>(), 3u);
    EXPECT_EQ(Tier(stats, "slow")["allocations"].get<uint64_t>(), 3u);
  }
}

// Each tier arena's first metadata block is 2 MiB (jemalloc's base); in the fast tier's slice,
// advised for huge pages, its first touch committed all 2 MiB: with 16 arenas per tier (a machine
// of 8 CPUs or more) 32 MiB of the fast tier per placed process, for a few KiB of metadata each.
// Now only data extents get huge pages: a `cat` takes at most one.
TEST(PlacerRun, ArenaMetadataTakesNoHugePagesOfTheFastTier) {
  const auto run = RunCommand({"/bin/cat", "/proc/self/smaps_rollup"},
                              {"LD_PRELOAD=" + Lib(), "TIERSCOPE_PLACER_ARENAS=16",
                               std::string("TIERSCOPE_TIERS=") + kTwoTiers});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const size_t at = run.out.find("AnonHugePages:");
  ASSERT_NE(at, std::string::npos) << run.out;
  const long kib = std::stol(run.out.substr(at + 14));
  EXPECT_LE(kib, 2048) << run.out;
}

TEST(PlacerRun, BadProfileThroughTheEnvironmentDegradesWithOneLine) {
  TempDir dir;
  WriteBytes(dir.File("bad.tsp"), "this is not a profile");
  const std::string kv = ExampleBin("ts-example-kvcache");
  const auto plain = RunCommand({kv, "--ops", "2000"});
  const std::vector<std::vector<std::string>> envs = {
      {"TIERSCOPE_PROFILE=" + dir.File("bad.tsp")},
      {"TIERSCOPE_PROFILE=" + dir.File("missing.tsp")},
      {"TIERSCOPE_TIERS=fast=node:0;slow=node:77"},
      {"TIERSCOPE_TIERS=fast=node:0,policy=sideways"},
      {"TIERSCOPE_PLACER_DEPTH=99"},
  };
  for (const bool stats : {false, true}) {
    for (auto env : envs) {
      env.push_back("LD_PRELOAD=" + Lib());
      // The stats at exit read the module table, which a failed start never built: this
      // crashed every such program at exit (SIGSEGV) before.
      if (stats) env.push_back("TIERSCOPE_PLACER_STATS=" + dir.File("stats.json"));
      const auto run = RunCommand({kv, "--ops", "2000"}, env);
      EXPECT_EQ(run.exit_code, 0) << env[0] << " stats " << stats;
      EXPECT_EQ(run.out, plain.out) << env[0];
      EXPECT_EQ(Lines(run.err), 1) << env[0] << ": " << run.err;
      EXPECT_NE(run.err.find("default placement"), std::string::npos) << run.err;
    }
  }
}

// The placer reads the plan and its index (formats/placement_index.h), not the sites: a profile
// of 14k sites held 32 MB of stacks, which every placed process parsed at its start (0.3 s,
// 180 MB). A copy of the profile without its site chunks places the program exactly as the
// whole profile does; asked for another depth than the index's, the placer reads the sites, and
// from the copy finds none.
TEST(PlacerRun, ThePlanIsReadWithoutTheSites) {
  TempDir dir;
  const std::vector<std::string> program = {ExampleBin("ts-example-kvcache"), "--ops", "2000"};
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, program, 3));
  {
    formats::ContainerReader in(dir.File("plan.tsp"));
    formats::ContainerWriter out(dir.File("nosites.tsp"), formats::FileKind::kProfile);
    std::string raw;
    int dropped = 0;
    while (in.Next(&raw)) {
      profile::ProfileChunk chunk;
      ASSERT_TRUE(chunk.ParseFromString(raw));
      if (chunk.sites_size() == 0) {
        out.Append(raw);
      } else {
        ++dropped;
      }
    }
    out.Close();
    ASSERT_GT(dropped, 0);
  }
  auto placed = [&](const std::string& plan, const std::vector<std::string>& flags) {
    std::vector<std::string> run = {TierscopeBin(), "run",          "-q",
                                    "--profile",    dir.File(plan), "--tiers",
                                    kTwoTiers,      "--stats",      dir.File("stats.json")};
    run.insert(run.end(), flags.begin(), flags.end());
    run.push_back("--");
    run.insert(run.end(), program.begin(), program.end());
    const auto r = RunCommand(run);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return ReadJson(dir.File("stats.json"));
  };
  const json whole = placed("plan.tsp", {});
  const json plan_only = placed("nosites.tsp", {});
  EXPECT_GT(whole["plan_keys"].get<uint64_t>(), 0u);
  for (const char* key : {"plan_keys", "plan_hits", "unknown_sites", "plan_sites_missing",
                          "primary_placement", "program_in_profile"}) {
    EXPECT_EQ(plan_only[key], whole[key]) << key;
  }
  EXPECT_EQ(Tier(plan_only, "fast")["allocations"], Tier(whole, "fast")["allocations"]);
  EXPECT_EQ(Tier(plan_only, "slow")["allocations"], Tier(whole, "slow")["allocations"]);
  const json deeper = placed("nosites.tsp", {"--depth", "4"});
  EXPECT_EQ(deeper["plan_keys"], 0);
  EXPECT_GT(deeper["plan_sites_missing"].get<uint64_t>(), 0u);
}

// A plan that found nothing better than the kernel's first touch (tierscope plan --min-gain):
// the program runs with the default placement, its output the same, and the run says why once.
TEST(PlacerRun, APlanThatLeavesPlacementToTheKernelPlacesNothingAndSaysSo) {
  TempDir dir;
  profile::ProfileChunk kernel;
  kernel.add_sites()->set_id(1);
  kernel.mutable_plan()->set_leave_to_kernel(true);
  kernel.mutable_plan()->set_default_tier("default");
  formats::WriteProfile(dir.File("plan.tsp"), kernel);
  const std::string kv = ExampleBin("ts-example-kvcache");
  const auto plain = RunCommand({kv, "--ops", "2000"});
  const std::string why = "the plan leaves placement to the kernel's first touch";
  // Once: in the run's summary line (the placer in the program marks it said), with --quiet too.
  for (const std::vector<std::string>& flags : {std::vector<std::string>{}, {"-q"}}) {
    const auto placed = RunPlaced(dir, {kv, "--ops", "2000"}, "", flags);
    ASSERT_EQ(placed.exit_code, 0) << placed.err;
    EXPECT_EQ(placed.out, plain.out);
    EXPECT_EQ(Count(placed.err, why), 1) << placed.err;
    EXPECT_NE(placed.err.find("0 allocations placed"), std::string::npos) << placed.err;
  }
  // Preloaded without `tierscope run`: the placer says it itself.
  const auto preloaded = RunCommand(
      {kv, "--ops", "2000"}, {"LD_PRELOAD=" + Lib(), "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
                              "TIERSCOPE_TIERS=" + std::string(kTwoTiers),
                              "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json")});
  ASSERT_EQ(preloaded.exit_code, 0) << preloaded.err;
  EXPECT_EQ(preloaded.out, plain.out);
  EXPECT_EQ(Count(preloaded.err, why), 1) << preloaded.err;
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(stats["placement"], "default");
  EXPECT_EQ(stats["plan_hits"], 0);
  EXPECT_EQ(stats["unknown_sites"], 0);  // no stack was walked
}

TEST(PlacerRun, RunRefusesBadInputBeforeStartingTheProgram) {
  TempDir dir;
  WriteBytes(dir.File("bad.tsp"), "this is not a profile");
  profile::ProfileChunk no_plan;
  no_plan.add_sites()->set_id(1);
  formats::WriteProfile(dir.File("noplan.tsp"), no_plan);
  profile::ProfileChunk wrong_tier = no_plan;
  auto* a = wrong_tier.mutable_plan()->add_assignments();
  a->set_site_id(1);
  a->set_tier("warp");
  formats::WriteProfile(dir.File("wrongtier.tsp"), wrong_tier);
  const std::string marker = dir.File("ran");
  const std::vector<std::vector<std::string>> cases = {
      {"--profile", dir.File("bad.tsp")},
      {"--profile", dir.File("missing.tsp")},
      {"--profile", dir.File("noplan.tsp")},
      {"--profile", dir.File("wrongtier.tsp")},
      {"--profile", dir.File("wrongtier.tsp"), "--tiers", "fast=0;slow=99"},
      {"--profile", dir.File("wrongtier.tsp"), "--tiers", "fast"},
      {"--learn", dir.File("x.tsp"), "--depth", "12"},
      {"--learn", dir.File("x.tsp"), "--timeline", dir.File("t"), "--timeline-every", "0"},
      {"--learn", dir.File("x.tsp"), "--timeline-every", "10"},
      {"--learn", dir.File("x.tsp"), "--timeline", dir.File("no/such/dir/t")},
  };
  for (const auto& flags : cases) {
    std::vector<std::string> argv = {TierscopeBin(), "run"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--", "/usr/bin/touch", marker});
    const auto run = RunCommand(argv);
    EXPECT_EQ(run.exit_code, 2) << flags[1] << run.err;
    EXPECT_EQ(Lines(run.err), 1) << run.err;
    EXPECT_NE(run.err.find("error"), std::string::npos) << run.err;
  }
  EXPECT_EQ(ReadBytes(marker), "");
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "the program ran";
}

// `tierscope run` ends with one line: allocations per tier, the share matched to the plan, the
// spills; the stats file has the same figures and the same line.
TEST(PlacerRun, RunEndsWithOneSummaryLineAndTheStatsSayTheSame) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, {kv, "--ops", "2000"}, 1));
  const auto run =
      RunCommand({TierscopeBin(), "run", "--profile", dir.File("plan.tsp"), "--tiers", kTwoTiers,
                  "--stats", dir.File("stats.json"), "--", kv, "--ops", "2000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Lines(run.err), 1) << run.err;
  const std::string line = SummaryOf(run.err);
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(stats["summary"], line);
  EXPECT_EQ(stats["process_count"], 1);
  EXPECT_FALSE(stats["low_match"].get<bool>());
  const uint64_t hits = stats["plan_hits"], unknown = stats["unknown_sites"];
  EXPECT_GT(hits, 0u);
  EXPECT_DOUBLE_EQ(stats["match_share"].get<double>(), double(hits) / double(hits + unknown));
  const uint64_t fast = Tier(stats, "fast")["allocations"],
                 slow = Tier(stats, "slow")["allocations"];
  EXPECT_EQ(line.find(std::to_string(fast + slow) + " allocations placed (fast " +
                      std::to_string(fast) + ", slow " + std::to_string(slow) + ")"),
            0u)
      << line;
  EXPECT_NE(line.find(" matched the plan (" + std::to_string(hits) + " of " +
                      std::to_string(hits + unknown) + " allocations)"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find("no spills"), std::string::npos) << line;
  EXPECT_EQ(line.find("low match"), std::string::npos) << line;
  // -q: no summary unless it warns.
  const auto quiet = RunCommand({TierscopeBin(), "run", "-q", "--profile", dir.File("plan.tsp"),
                                 "--tiers", kTwoTiers, "--", kv, "--ops", "2000"});
  EXPECT_EQ(quiet.exit_code, 0);
  EXPECT_EQ(quiet.err, "");
}

// The plan of one program on another: the summary warns, once, with advice.
TEST(PlacerRun, SummaryWarnsWhenFewAllocationsMatchThePlan) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, {kv, "--ops", "2000"}, 1));
  const std::vector<std::string> perl = {
      "/usr/bin/perl", "-e", "my @a = map { [$_] } 1..5000; print scalar(@a), \"\\n\";"};
  for (const char* quiet : {"--stats", "-q"}) {
    std::vector<std::string> run = {TierscopeBin(), "run",     "--profile", dir.File("plan.tsp"),
                                    "--tiers",      kTwoTiers, quiet};
    if (std::string(quiet) == "--stats") run.push_back(dir.File("stats.json"));
    run.push_back("--");
    run.insert(run.end(), perl.begin(), perl.end());
    const auto placed = RunCommand(run);
    ASSERT_EQ(placed.exit_code, 0) << placed.err;
    EXPECT_EQ(placed.out, "5000\n");
    EXPECT_EQ(Lines(placed.err), 1) << placed.err;
    const std::string line = SummaryOf(placed.err);
    EXPECT_NE(line.find("; low match: "), std::string::npos) << placed.err;
    EXPECT_NE(line.find("no module named like the program (perl)"), std::string::npos) << line;
  }
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_TRUE(stats["low_match"].get<bool>());
  EXPECT_FALSE(stats["program_in_profile"].get<bool>());
  EXPECT_LT(stats["match_share"].get<double>(), 0.9);
}

// A forked child counts only what it does after the fork, and writes its own stats: the run's
// totals add both processes up without counting the parent's allocations twice.
TEST(PlacerRun, AForkedChildReportsItsOwnAllocationsAndTheTotalsAddUp) {
  TempDir dir;
  const std::vector<std::string> program = {Fork(), "--blocks", "1000", "--child-blocks", "300"};
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, program, 1));
  const auto placed = RunPlaced(dir, program);
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, "parent 1000 blocks, child 300 blocks, child status 0\n");
  EXPECT_EQ(Lines(placed.err), 1) << placed.err;
  EXPECT_NE(SummaryOf(placed.err).find(" in 2 processes;"), std::string::npos) << placed.err;
  const json stats = ReadJson(dir.File("stats.json"));
  ASSERT_EQ(stats["process_count"], 2) << stats.dump();
  uint64_t hits = 0, parent = 0, child = 0;
  for (const auto& p : stats["processes"]) {
    hits += p["plan_hits"].get<uint64_t>();
    uint64_t placed_here = 0;
    for (const auto& [tier, n] : p["allocations"].items()) placed_here += n.get<uint64_t>();
    (p["pid"] == stats["pid"] ? parent : child) = placed_here;
  }
  EXPECT_EQ(stats["plan_hits"].get<uint64_t>(), hits);
  EXPECT_GE(parent, 1000u);
  EXPECT_GE(child, 300u);
  EXPECT_LT(child, 1000u) << "the child counted the parent's allocations";
  EXPECT_EQ(Tier(stats, "fast")["allocations"].get<uint64_t>() +
                Tier(stats, "slow")["allocations"].get<uint64_t>(),
            parent + child);
}

std::vector<json> TimelineLines(const std::string& path) {
  std::vector<json> lines;
  std::istringstream in(ReadBytes(path));
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

// --timeline: a line at start, one per interval, one at exit, each with the RSS and the live bytes
// per tier; the exit line and the stats (both written at exit) agree.
TEST(PlacerRun, TimelineLogsRssAndLiveBytesPerTierOverTheRun) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanKvcacheSitesOn(dir, kv, "fast"));
  const auto plain = RunCommand({kv, "--ops", "20000"});
  const auto placed =
      RunCommand({TierscopeBin(), "run", "--profile", dir.File("plan.tsp"), "--tiers", kTwoTiers,
                  "--stats", dir.File("stats.json"), "--timeline", dir.File("timeline.jsonl"),
                  "--timeline-every", "20ms", "--", kv, "--ops", "20000"});
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, plain.out);
  const std::vector<json> lines = TimelineLines(dir.File("timeline.jsonl"));
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.front()["when"], "start");
  EXPECT_EQ(lines.back()["when"], "exit");
  double last_t = -1;
  for (const json& line : lines) {
    EXPECT_GE(line["t_s"].get<double>(), last_t);
    last_t = line["t_s"].get<double>();
    ASSERT_EQ(line["tiers"].size(), 2u) << line.dump();
    EXPECT_EQ(line["tiers"][0]["name"], "fast");
    uint64_t live = 0;
    for (const json& tier : line["tiers"]) live += tier["live_bytes"].get<uint64_t>();
    EXPECT_EQ(line["tiers_live_bytes"].get<uint64_t>(), live);
    EXPECT_LE(live, line["allocated_bytes"].get<uint64_t>()) << line.dump();
  }
  const json stats = ReadJson(dir.File("stats.json"));
  const json& exit_line = lines.back();
  EXPECT_EQ(exit_line["pid"], stats["pid"]);
  for (const json& tier : exit_line["tiers"]) {
    const json& in_stats = Tier(stats, tier["name"].get<std::string>());
    EXPECT_EQ(tier["live_bytes"], in_stats["live_bytes"]) << tier.dump();
    EXPECT_EQ(tier["footprint_bytes"], in_stats["footprint_bytes"]) << tier.dump();
  }
  EXPECT_GT(Tier(stats, "fast")["allocations"].get<uint64_t>(), 0u);
}

// The timeline is a diagnostic: a bad interval or a file that cannot be written is said in one
// line, and the program runs on, placed, with its own output.
TEST(PlacerRun, ATimelineThatCannotBeWrittenIsSaidOnceAndThePlacementGoesOn) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanKvcacheSitesOn(dir, kv, "fast"));
  const auto plain = RunCommand({kv, "--ops", "2000"});
  const auto full = RunCommand({TierscopeBin(), "run", "-q", "--profile", dir.File("plan.tsp"),
                                "--tiers", kTwoTiers, "--timeline", "/dev/full", "--timeline-every",
                                "10ms", "--", kv, "--ops", "2000"});
  EXPECT_EQ(full.exit_code, 0) << full.err;
  EXPECT_EQ(full.out, plain.out);
  EXPECT_EQ(Lines(full.err), 1) << full.err;
  EXPECT_NE(full.err.find("TIERSCOPE_PLACER_TIMELINE=/dev/full: cannot write a line: No space "
                          "left on device; the timeline stops"),
            std::string::npos)
      << full.err;

  const auto bad_every = RunCommand(
      {kv, "--ops", "2000"},
      {"LD_PRELOAD=" + Lib(), "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
       "TIERSCOPE_TIERS=" + std::string(kTwoTiers), "TIERSCOPE_PLACER_STATS=" + dir.File("s.json"),
       "TIERSCOPE_PLACER_TIMELINE=" + dir.File("t.jsonl"), "TIERSCOPE_PLACER_TIMELINE_EVERY=soon"});
  EXPECT_EQ(bad_every.exit_code, 0) << bad_every.err;
  EXPECT_EQ(bad_every.out, plain.out);
  EXPECT_EQ(Lines(bad_every.err), 1) << bad_every.err;
  EXPECT_NE(bad_every.err.find("TIERSCOPE_PLACER_TIMELINE_EVERY='soon': expected seconds"),
            std::string::npos)
      << bad_every.err;
  EXPECT_NE(access(dir.File("t.jsonl").c_str(), F_OK), 0);
  EXPECT_GT(ReadJson(dir.File("s.json"))["plan_hits"].get<uint64_t>(), 0u);  // still placed
}

// A forked child writes its own timeline (FILE.PID), from its own thread.
TEST(PlacerRun, AForkedChildWritesATimelineOfItsOwn) {
  TempDir dir;
  const std::vector<std::string> program = {Fork(), "--blocks", "1000", "--child-blocks", "300"};
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, program, 1));
  const auto placed = RunPlaced(dir, program, "", {"--timeline", dir.File("t.jsonl")});
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  EXPECT_EQ(placed.out, "parent 1000 blocks, child 300 blocks, child status 0\n");
  const std::vector<json> parent = TimelineLines(dir.File("t.jsonl"));
  ASSERT_GE(parent.size(), 2u);
  std::vector<std::string> others;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("t.", 0) == 0 && name != "t.jsonl") others.push_back(entry.path().string());
  }
  ASSERT_EQ(others.size(), 1u);
  const std::vector<json> child = TimelineLines(others[0]);
  ASSERT_GE(child.size(), 2u);
  EXPECT_NE(child.front()["pid"], parent.front()["pid"]);
  EXPECT_EQ(child.front()["when"], "start");
  EXPECT_EQ(child.back()["when"], "exit");
  EXPECT_NE(others[0].find("t." + std::to_string(child.front()["pid"].get<long>()) + ".jsonl"),
            std::string::npos)
      << others[0];
}

// A launcher script that runs several programs, then execs the planned one: each warning of the
// placer is said once for the whole run, not once per process, and the stats of every process
// end up in the one stats file (tierscope run) or in a file each (direct LD_PRELOAD).
TEST(PlacerRun, WarningsAreSaidOncePerRunUnderALauncher) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanKvcacheSitesOn(dir, kv, "slow"));
  {  // sites the plan does not name go to its slowest tier, as `tierscope plan` makes them
    auto read = formats::ReadProfile(dir.File("plan.tsp"));
    ASSERT_TRUE(read.ok());
    read.profile.mutable_plan()->set_default_tier("slow");
    formats::WriteProfile(dir.File("plan.tsp"), read.profile);
  }
  const std::string script =
      "for i in 1 2 3 4 5; do /bin/true; done; (/bin/echo child) >/dev/null; "
      "/bin/sh -c '/bin/true; /bin/true'; exec " +
      kv + " --ops 2000";
  const bool one_tier = OneTierMachine();
  // The plan names no nodes: the machine's tiers (on a one-node machine, one warning).
  const auto run = RunCommand({TierscopeBin(), "run", "--profile", dir.File("plan.tsp"), "--stats",
                               dir.File("stats.json"), "--", "/bin/sh", "-c", script});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Count(run.err, "one memory tier"), one_tier ? 1 : 0) << run.err;
  EXPECT_EQ(Count(run.err, "tierscope run: "), 1 + (one_tier ? 1 : 0)) << run.err;
  EXPECT_EQ(Count(run.err, "tierscope-placer"), 0) << run.err;
  const std::string line = SummaryOf(run.err);
  EXPECT_NE(line.find(" processes;"), std::string::npos) << run.err;
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_GE(stats["process_count"].get<int>(), 7) << stats.dump();
  EXPECT_EQ(stats["summary"], line);
  EXPECT_EQ(stats["program"], kv);  // the root process: the one that exec'd the program
  // The shells and tools of the launcher are not the plan's program: what the plan does not name
  // there goes where the kernel puts it, not to the plan's tier for unknown sites (slow here).
  int others = 0;
  for (const auto& p : stats["processes"]) {
    if (p["program"] == kv) {
      EXPECT_EQ(p["unknown_site_tier"], "slow") << p.dump();
      EXPECT_TRUE(p["program_in_profile"].get<bool>()) << p.dump();
    } else {
      ++others;
      EXPECT_EQ(p["unknown_site_tier"], "default") << p.dump();
      EXPECT_FALSE(p["program_in_profile"].get<bool>()) << p.dump();
      EXPECT_EQ(p["allocations"].value("slow", 0), 0) << p.dump();
      EXPECT_EQ(p["primary_placement"], "default") << p.dump();
    }
  }
  EXPECT_GE(others, 6);
  EXPECT_NE(line.find("their sites outside the plan on the default placement"), std::string::npos)
      << line;

  // Direct LD_PRELOAD: the first process says it and tells its children.
  const auto direct =
      RunCommand({"/bin/sh", "-c", script},
                 {"LD_PRELOAD=" + Lib(), "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
                  "TIERSCOPE_PLACER_STATS=" + dir.File("direct.json")});
  ASSERT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(Count(direct.err, "one memory tier"), one_tier ? 1 : 0) << direct.err;
  // The tree's first process (sh, then the program it exec'd) writes direct.json, every other
  // process direct.PID.json.
  EXPECT_EQ(ReadJson(dir.File("direct.json"))["program"], kv);
  const auto files =
      RunCommand({"/bin/sh", "-c", "ls " + dir.path() + " | grep -c '^direct\\.[0-9]*\\.json$'"});
  EXPECT_GE(std::stoi(files.out), 6) << files.out;
}

// Threads allocate and map memory while the main thread forks 200 times; each child allocates,
// maps and exits. Every lock of the placer held by a thread at fork time would be copied held
// into the child, where no thread releases it (before the fork handlers: the child spun forever
// in the placed-ranges lock). Each stack walk: frame 0, auto, libunwind. A child
// stuck on a lock is killed by its alarm after 60 s (the program then fails); `timeout` guards
// the program itself.
TEST(PlacerRun, ForkingWhileThreadsAllocateAndMapNeverHangs) {
  const std::vector<std::string> program = {Fork(), "--threads", "4", "--forks", "200"};
  const auto plain = RunCommand(program);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  // Depth 1: frame 0 only; depth 2: the default walk (frame pointers here, the unwind tables
  // say so) and libunwind's (its walks in flight are waited for at fork).
  const std::vector<std::pair<int, std::string>> walks = {{1, "fp"}, {2, "auto"}, {2, "libunwind"}};
  for (const auto& [depth, unwinder] : walks) {
    SCOPED_TRACE("depth " + std::to_string(depth) + ", " + unwinder);
    TempDir dir;
    // The same sites, learned from a shorter run.
    ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, {Fork(), "--threads", "4", "--forks", "5"}, depth));
    std::vector<std::string> run = {"/usr/bin/timeout", "-s", "KILL", "600"};
    run.insert(run.end(), program.begin(), program.end());
    std::vector<std::string> env = {"LD_PRELOAD=" + Lib(),
                                    "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
                                    std::string("TIERSCOPE_TIERS=") + kTwoTiers,
                                    "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json")};
    if (unwinder == "libunwind") env.push_back("TIERSCOPE_PLACER_UNWIND=libunwind");
    const auto placed = RunCommand(run, env);
    EXPECT_EQ(placed.exit_code, 0) << placed.err;
    EXPECT_EQ(placed.out, plain.out);
    EXPECT_EQ(placed.err, "");
    const json stats = ReadJson(dir.File("stats.json"));
    EXPECT_EQ(stats["unwinder"], unwinder);
    EXPECT_GT(stats["plan_hits"].get<uint64_t>(), 0u);
    // Every mapping from the planned mmap site was placed on a tier, then unmapped.
    EXPECT_EQ(Tier(stats, "fast")["mapped_bytes"].get<uint64_t>(), 0u);
    EXPECT_EQ(Tier(stats, "slow")["mapped_bytes"].get<uint64_t>(), 0u);
  }
}

// A program whose path is not UTF-8: its stats (which name it) are still written, and the
// placer's exit path never ends the program with std::terminate (it did: exit status 134).
TEST(PlacerRun, StatsOfAProgramWithANonUtf8PathAreWritten) {
  TempDir dir;
  const std::string folder = dir.File(
      "bad\xff"
      "dir");
  ASSERT_EQ(mkdir(folder.c_str(), 0755), 0);
  const std::string kv = folder + "/kv";
  ASSERT_EQ(RunCommand({"/bin/cp", ExampleBin("ts-example-kvcache"), kv}).exit_code, 0);
  const auto plain = RunCommand({kv, "--ops", "2000"});
  ASSERT_EQ(plain.exit_code, 0);
  const auto direct = RunCommand(
      {kv, "--ops", "2000"}, {"LD_PRELOAD=" + Lib(), std::string("TIERSCOPE_TIERS=") + kTwoTiers,
                              "TIERSCOPE_PLACER_STATS=" + dir.File("direct.json")});
  EXPECT_EQ(direct.exit_code, 0) << direct.err;
  EXPECT_EQ(direct.out, plain.out);
  EXPECT_EQ(ReadJson(dir.File("direct.json"))["program"], dir.File("bad\xef\xbf\xbd"
                                                                   "dir/kv"));
  const auto run = RunCommand({TierscopeBin(), "run", "--tiers", kTwoTiers, "--stats",
                               dir.File("run.json"), "--", kv, "--ops", "2000"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, plain.out);
  EXPECT_EQ(ReadJson(dir.File("run.json"))["process_count"], 1);
}

// A profile made from another build of the program (same file name, another GNU build-id)
// matches none of its sites: the placer says so once, the stats count the module, and the
// summary's advice names the cause.
TEST(PlacerRun, AProfileOfAnotherBuildIsSaidOnce) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanEverySite(dir, {kv, "--ops", "2000"}, 1));
  auto profile = formats::LoadProfile(dir.File("plan.tsp"));
  int changed = 0;
  for (auto& site : *profile.mutable_sites()) {
    for (auto& loc : *site.mutable_stack()) {
      if (loc.module() != kv) continue;
      ASSERT_FALSE(loc.build_id().empty()) << "the example has no build-id";
      std::string id = loc.build_id();
      id[0] = static_cast<char>(id[0] ^ 0x5a);
      loc.set_build_id(id);
      ++changed;
    }
  }
  ASSERT_GT(changed, 0);
  formats::WriteProfile(dir.File("other.tsp"), profile);
  const auto run =
      RunCommand({TierscopeBin(), "run", "--profile", dir.File("other.tsp"), "--tiers", kTwoTiers,
                  "--stats", dir.File("stats.json"), "--", kv, "--ops", "2000"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Count(run.err,
                  "tierscope-placer: 1 module(s) of the plan are another build here than in the "
                  "profile (build-id): ts-example-kvcache; their sites will not match\n"),
            1)
      << run.err;
  EXPECT_EQ(Lines(run.err), 2) << run.err;
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(stats["profile_modules_other_build"], 1);
  EXPECT_EQ(stats["processes"][0]["profile_modules_other_build_names"][0], "ts-example-kvcache");
  EXPECT_TRUE(stats["low_match"].get<bool>());
  EXPECT_NE(SummaryOf(run.err).find("1 module(s) of the profile are another build here"),
            std::string::npos)
      << run.err;
  // The same profile with the right build-id: not a word.
  const auto same = RunCommand({TierscopeBin(), "run", "-q", "--profile", dir.File("plan.tsp"),
                                "--tiers", kTwoTiers, "--", kv, "--ops", "2000"});
  EXPECT_EQ(same.err, "");
}

TEST(PlacerRun, ExitStatusIsTheProgramsAndTopologyListsTheTiers) {
  EXPECT_EQ(
      RunCommand({TierscopeBin(), "run", "--tiers", kTwoTiers, "--", "/bin/sh", "-c", "exit 7"})
          .exit_code,
      7);
  const auto topo = RunCommand({TierscopeBin(), "topology"});
  ASSERT_EQ(topo.exit_code, 0) << topo.err;
  EXPECT_NE(topo.out.find("fast  nodes="), std::string::npos) << topo.out;
  EXPECT_NE(topo.out.find("slow  nodes="), std::string::npos) << topo.out;
  EXPECT_NE(topo.out.find("node 0"), std::string::npos) << topo.out;
  const auto bad = RunCommand({TierscopeBin(), "topology", "--tiers", "fast=node:42"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("node 42"), std::string::npos) << bad.err;
}

// Large blocks: a 64 MiB malloc grown by realloc to 160 MiB, and the program's own mmap grown by
// mremap, from sites planned slow. On this one-node machine both tiers are node 0, so the tiers
// differ by policy (fast: bind, slow: preferred) and the kernel's policy of the block's last
// byte says which tier's rules place its pages. An unplanned mapping keeps the default policy.
TEST(PlacerRun, LargeBlocksAndMappingsFromPlannedSitesStayOnTheirTier) {
  TempDir dir;
  const std::vector<std::string> tiers = {
      "TIERSCOPE_TIERS=fast=node:0;slow=node:0,policy=preferred,thp=off"};
  auto env = tiers;
  env.push_back("TIERSCOPE_PLACER_SITES=" + dir.File("learned.tsp"));
  env.push_back("TIERSCOPE_PLACER_DEPTH=1");
  ASSERT_EQ(RunCommand({Probe()}, env).exit_code, 0);
  auto profile = MakePlan(dir.File("learned.tsp"), Probe(), [](const std::string& fn) {
    return fn == "probe_site_big" || fn == "probe_site_map" ? "slow"
           : fn == "probe_site_b"                           ? "fast"
                                                            : "";
  });
  ASSERT_EQ(profile.plan().assignments_size(), 3) << "the learn run saw the mmap site";
  formats::WriteProfile(dir.File("plan.tsp"), profile);
  env = tiers;
  env.push_back("TIERSCOPE_PROFILE=" + dir.File("plan.tsp"));
  env.push_back("TIERSCOPE_PLACER_STATS=" + dir.File("stats.json"));
  const auto run = RunCommand({Probe()}, env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string preferred = " policy=" + std::to_string(MPOL_PREFERRED);
  const std::string bind = " policy=" + std::to_string(MPOL_BIND);
  auto line = [&](const std::string& what) {
    const auto at = run.out.find(what + " tier=");
    if (at == std::string::npos) return std::string("(no line for " + what + ")");
    return run.out.substr(at, run.out.find('\n', at) - at);
  };
  EXPECT_NE(line("site_b").find("site_b tier=0 "), std::string::npos) << line("site_b");
  EXPECT_NE(line("site_b").find(bind), std::string::npos) << line("site_b");
  EXPECT_NE(line("big").find("big tier=1 "), std::string::npos) << line("big");
  EXPECT_NE(line("big").find(preferred), std::string::npos) << line("big");
  EXPECT_NE(line("big_realloc").find("big_realloc tier=1 "), std::string::npos)
      << line("big_realloc");
  EXPECT_NE(line("big_realloc").find(preferred), std::string::npos) << line("big_realloc");
  // Mappings are not in a tier arena (tier=-1) but carry the tier's policy.
  EXPECT_NE(line("map").find(preferred), std::string::npos) << line("map");
  EXPECT_NE(line("map_mremap").find(preferred), std::string::npos) << line("map_mremap");
  EXPECT_NE(line("map_unplanned").find(" policy=" + std::to_string(MPOL_DEFAULT)),
            std::string::npos)
      << line("map_unplanned");
  const json stats = ReadJson(dir.File("stats.json"));
  const json& slow = Tier(stats, "slow");
  // Still mapped at exit: the mremap-ed 32 MiB less the 4 MiB the probe unmapped.
  EXPECT_EQ(slow["mapped_bytes"].get<uint64_t>(), 28ull << 20);
  EXPECT_EQ(Tier(stats, "fast")["mapped_bytes"].get<uint64_t>(), 0u);
  // 64 MiB malloc + 8 MiB mmap + 24 MiB of mremap growth.
  EXPECT_GE(slow["bytes_allocated"].get<uint64_t>(), (64ull + 8 + 24) << 20);
  EXPECT_EQ(slow["fallbacks"].get<uint64_t>(), 0u);
}

// The budget covers mappings too: with 16 MiB on the slow tier (the last tier), the 8 MiB mapping
// fits, its growth to 32 MiB does not and gets the kernel's placement; the 64 MiB malloc spills
// to the default arenas. Nothing crashes and every fallback is counted.
TEST(PlacerRun, MappingsCountAgainstTheTierBudget) {
  TempDir dir;
  const std::string spec = "fast=node:0;slow=node:0,policy=preferred,thp=off";
  auto env = std::vector<std::string>{"TIERSCOPE_TIERS=" + spec,
                                      "TIERSCOPE_PLACER_SITES=" + dir.File("learned.tsp"),
                                      "TIERSCOPE_PLACER_DEPTH=1"};
  ASSERT_EQ(RunCommand({Probe()}, env).exit_code, 0);
  auto profile = MakePlan(dir.File("learned.tsp"), Probe(), [](const std::string& fn) {
    return fn == "probe_site_big" || fn == "probe_site_map" ? "slow" : "";
  });
  formats::WriteProfile(dir.File("plan.tsp"), profile);
  env = {"TIERSCOPE_TIERS=fast=node:0;slow=node:0,policy=preferred,thp=off,capacity=16M",
         "TIERSCOPE_PROFILE=" + dir.File("plan.tsp"),
         "TIERSCOPE_PLACER_STATS=" + dir.File("stats.json"),
         // One arena per tier: the budget's metadata allowance (4 MiB per arena) stays small
         // whatever the CPU count, so 16M + 4M leaves room for the 8 MiB mapping only.
         "TIERSCOPE_PLACER_ARENAS=1"};
  const auto run = RunCommand({Probe()}, env);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("map tier=-1 arena=4294967295 policy=" + std::to_string(MPOL_PREFERRED)),
            std::string::npos)
      << run.out;
  // The grown part is not on the slow tier: its last byte has the default policy.
  EXPECT_NE(
      run.out.find("map_mremap tier=-1 arena=4294967295 policy=" + std::to_string(MPOL_DEFAULT)),
      std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("big tier=-1 "), std::string::npos) << run.out;
  const json stats = ReadJson(dir.File("stats.json"));
  const json& slow = Tier(stats, "slow");
  EXPECT_GE(slow["fallbacks"].get<uint64_t>(), 2u);
  EXPECT_GE(stats["fallbacks_to_default"].get<uint64_t>(), 2u);
  // Only what is left of the first 8 MiB (4 MiB were unmapped) still counts.
  EXPECT_EQ(slow["mapped_bytes"].get<uint64_t>(), 4ull << 20);
}

// Relative --profile/--stats paths keep working when the program (or a wrapper script in front of
// it, like pyenv's shims) changes directory before the placer in it opens them.
TEST(PlacerRun, RelativePathsSurviveAProgramThatChangesDirectory) {
  TempDir dir;
  const std::string kv = ExampleBin("ts-example-kvcache");
  ASSERT_NO_FATAL_FAILURE(PlanKvcacheSitesOn(dir, kv, "slow"));
  const std::string script = "cd " + dir.path() + " && " + TierscopeBin() +
                             " run --profile plan.tsp --stats stats.json --tiers '" + kTwoTiers +
                             "' -- /bin/sh -c 'cd / && exec " + kv + " --ops 2000'";
  const auto run = RunCommand({"/bin/sh", "-c", script});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find("running with default placement"), std::string::npos) << run.err;
  const json stats = ReadJson(dir.File("stats.json"));
  EXPECT_EQ(stats["placement"], "plan");
  EXPECT_GT(Tier(stats, "slow")["allocations"].get<uint64_t>(), 0u);
}

}  // namespace
}  // namespace tierscope::testing
