// A real recorded trace: the kvcache example prints its own ground truth per allocation site
// (--print-sites); `analyze --site-depth 1` must find the same allocations and bytes per function.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <map>
#include <sstream>

#include "test_support.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::testing {
namespace {

struct Truth {
  uint64_t bytes = 0, allocs = 0;
};

std::map<std::string, Truth> ParseSites(const std::string& out) {
  std::map<std::string, Truth> sites;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("site ", 0) != 0) continue;
    std::istringstream fields(line);
    std::string word, function;
    Truth t;
    while (fields >> word) {
      const auto eq = word.find('=');
      if (eq == std::string::npos) continue;
      const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
      if (key == "function") function = value;
      if (key == "bytes") t.bytes = std::stoull(value);
      if (key == "allocs") t.allocs = std::stoull(value);
    }
    sites[function] = t;
  }
  return sites;
}

TEST(RecordedExample, KvcacheSitesMatchTheProgramsOwnCounts) {
  TempDir dir;
  auto rec = RunCommand({TierscopeBin(), "record", "-q", "-o", dir.File("t"), "--",
                         ExampleBin("ts-example-kvcache"), "--ops", "20000", "--keys", "4096",
                         "--threads", "2", "--print-sites"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  const auto truth = ParseSites(rec.out);
  ASSERT_EQ(truth.size(), 4u) << rec.out;

  auto an = RunCommand(
      {TierscopeBin(), "analyze", "--site-depth", "1", dir.File("t"), "-o", dir.File("p")});
  ASSERT_EQ(an.exit_code, 0) << an.err;
  const auto p = formats::LoadProfile(dir.File("p"));
  std::map<std::string, const profile::Site*> by_function;
  for (const auto& s : p.sites()) {
    if (s.stack_size() > 0 && s.stack(0).lines_size() > 0) {
      by_function[s.stack(0).lines(0).function()] = &s;
    }
  }
  for (const auto& [function, t] : truth) {
    auto it = by_function.find(function);
    ASSERT_NE(it, by_function.end()) << function << " not found among the profile's sites";
    EXPECT_EQ(it->second->allocations(), t.allocs) << function;
    EXPECT_EQ(it->second->bytes(), t.bytes) << function;
    EXPECT_LE(it->second->peak_live_bytes(), t.bytes) << function;
    EXPECT_GT(it->second->peak_live_bytes(), 0u) << function;
  }
  // The plan and the report run on a real profile.
  auto plan = RunCommand(
      {TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=1M", "--tier", "slow=rest"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  auto report = RunCommand({TierscopeBin(), "report", dir.File("p")});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  EXPECT_NE(report.out.find("kv_alloc_index"), std::string::npos) << report.out;
}

// The replay's plan decisions against the placer's own: record kvcache, plan every sampled site
// fast, replay the trace, then run the same (deterministic) program under the placer with that
// plan. Allocations per tier must agree: the replay and the placer compute the same site key
// (common/site_key.h) from the recorder's stacks and from live return addresses.
TEST(RecordedExample, ReplayedPlanAgreesWithThePlacerTierByTier) {
  TempDir dir;
  const std::vector<std::string> program = {
      ExampleBin("ts-example-kvcache"), "--ops", "200000", "--keys", "8192", "--threads", "1"};
  std::vector<std::string> record = {TierscopeBin(),    "record", "-q", "--sampler",   "timer",
                                     "--sample-budget", "0",      "-o", dir.File("t"), "--"};
  record.insert(record.end(), program.begin(), program.end());
  auto rec = RunCommand(record);
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  ASSERT_EQ(RunCommand({TierscopeBin(), "analyze", dir.File("t"), "-o", dir.File("p")}).exit_code,
            0);
  // A fast tier larger than the heap: no spill and no quota, so each site's tier is its plan's.
  auto plan = RunCommand({TierscopeBin(), "plan", dir.File("p"), "--tier", "fast=4G", "--tier",
                          "slow=rest", "--min-gain", "0"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  auto replay = RunCommand(
      {TierscopeBin(), "evaluate", "--profile", dir.File("p"), dir.File("t"), "--format", "json"});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  const auto doc = nlohmann::json::parse(replay.out);
  std::vector<uint64_t> replayed;
  for (const auto& p : doc["policies"]) {
    if (p["name"] == "tierscope") replayed = p["allocations_by_tier"].get<std::vector<uint64_t>>();
  }
  ASSERT_EQ(replayed.size(), 3u);  // fast, slow, the kernel's placement

  std::vector<std::string> run = {
      TierscopeBin(), "run", "--profile", dir.File("p"), "--stats", dir.File("stats.json"), "--"};
  run.insert(run.end(), program.begin(), program.end());
  auto placed = RunCommand(run);
  ASSERT_EQ(placed.exit_code, 0) << placed.err;
  const auto stats = nlohmann::json::parse(ReadBytes(dir.File("stats.json")));
  ASSERT_EQ(stats["tiers"].size(), 2u);
  const uint64_t fast = stats["tiers"][0]["allocations"], slow = stats["tiers"][1]["allocations"];
  const uint64_t unknown = stats["unknown_sites"];
  EXPECT_GT(replayed[0], 1000u);  // the hot and warm sites: kvcache's values are many
  EXPECT_EQ(fast, replayed[0]);   // every allocation the replay put fast, the placer did too
  // The placer also sees the few allocations made before the recorder starts (the loader's, libc
  // start-up): not in the trace, so unknown to the plan, so on its default tier (slow).
  EXPECT_LE(unknown, 5u);
  EXPECT_EQ(slow, replayed[1] + unknown);
  EXPECT_EQ(replayed[2], 0u);
}

}  // namespace
}  // namespace tierscope::testing
