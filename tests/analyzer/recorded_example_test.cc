// A real recorded trace: the kvcache example prints its own ground truth per allocation site
// (--print-sites); `analyze --site-depth 1` must find the same allocations and bytes per function.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tierscope::testing
