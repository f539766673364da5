// The examples are ground truth for every other test: they must be deterministic, count their own
// allocations, and refuse bad arguments. If these fail, nothing built on them can be trusted.
#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "test_support.h"

namespace tierscope::testing {
namespace {

struct Example {
  const char* name;
  std::vector<std::string> args;
};

const Example kExamples[] = {
    {"ts-example-kvcache", {"--ops", "200000", "--print-sites"}},
    {"ts-example-kvcache", {"--ops", "200000", "--threads", "2"}},
    {"ts-example-stress", {"--ops", "200000"}},
    {"ts-example-allocapi", {}},
    {"ts-example-dlopen", {}},
};

std::vector<std::string> Argv(const Example& e) {
  std::vector<std::string> argv = {ExampleBin(e.name)};
  argv.insert(argv.end(), e.args.begin(), e.args.end());
  return argv;
}

// Parses "<prog> counts: k=v k=v ..." from stderr.
std::map<std::string, long> Counts(const std::string& err) {
  std::map<std::string, long> counts;
  std::smatch line;
  if (!std::regex_search(err, line, std::regex(R"(counts:([^\n]*))"))) return counts;
  const std::string body = line[1];
  std::regex pair(R"((\w+)=(\d+))");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), pair); it != std::sregex_iterator();
       ++it) {
    counts[(*it)[1]] = std::stol((*it)[2]);
  }
  return counts;
}

class ExampleTest : public ::testing::TestWithParam<Example> {};

TEST_P(ExampleTest, OutputIsTheSameOnEveryRun) {
  auto first = RunCommand(Argv(GetParam()));
  auto second = RunCommand(Argv(GetParam()));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_FALSE(first.out.empty());
  EXPECT_EQ(first.out, second.out);
  EXPECT_NE(first.out.find("checksum=0x"), std::string::npos) << first.out;
}

TEST_P(ExampleTest, CountsItsOwnAllocationsWhenAsked) {
  auto quiet = RunCommand(Argv(GetParam()));
  EXPECT_TRUE(Counts(quiet.err).empty()) << "counts only on request";
  auto counted = RunCommand(Argv(GetParam()), {"TIERSCOPE_EXAMPLE_COUNTS=1"});
  ASSERT_EQ(counted.exit_code, 0) << counted.err;
  auto counts = Counts(counted.err);
  ASSERT_EQ(counts.size(), 21u) << counted.err;
  long allocations = counts["malloc"] + counts["calloc"] + counts["new"] + counts["mmap"];
  EXPECT_GT(allocations, 0);
}

TEST_P(ExampleTest, BadArgumentIsOneLineAndExitTwo) {
  auto r = RunCommand({ExampleBin(GetParam().name), "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

INSTANTIATE_TEST_SUITE_P(All, ExampleTest, ::testing::ValuesIn(kExamples), [](const auto& info) {
  return std::string(info.param.name).substr(11) + std::to_string(info.index);
});

TEST(Examples, StressCountsMatchItsArguments) {
  auto r = RunCommand({ExampleBin("ts-example-stress"), "--threads", "3", "--ops", "1000"},
                      {"TIERSCOPE_EXAMPLE_COUNTS=1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto counts = Counts(r.err);
  EXPECT_EQ(counts["malloc"], 3000);
  EXPECT_EQ(counts["free"], 3001);
}

TEST(Examples, KvcacheOutputDoesNotDependOnThreads) {
  auto one = RunCommand({ExampleBin("ts-example-kvcache"), "--ops", "100000"});
  auto two = RunCommand({ExampleBin("ts-example-kvcache"), "--ops", "100000", "--threads", "2"});
  ASSERT_EQ(one.exit_code, 0);
  EXPECT_EQ(one.out, two.out);
}

TEST(Examples, KvcachePrintsItsGroundTruthSites) {
  auto r = RunCommand({ExampleBin("ts-example-kvcache"), "--ops", "100000", "--print-sites"});
  ASSERT_EQ(r.exit_code, 0);
  for (const char* fn :
       {"kv_alloc_index", "kv_alloc_value", "kv_alloc_log", "kv_alloc_archive_chunk"}) {
    EXPECT_NE(r.out.find(std::string("function=") + fn), std::string::npos) << r.out;
  }
  EXPECT_NE(r.out.find("class=hot"), std::string::npos);
  EXPECT_NE(r.out.find("class=cold"), std::string::npos);
}

}  // namespace
}  // namespace tierscope::testing
