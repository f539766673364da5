// TIERSCOPE_* parsing: defaults, accepted values, and one-line errors naming the variable.
#include <gtest/gtest.h>

#include <map>

#include "runtime/config.h"

namespace tierscope::recorder {
namespace {

std::optional<Config> Parse(const std::map<std::string, std::string>& vars, std::string* error) {
  return ParseConfig(
      [&vars](const char* name) -> const char* {
        auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
      },
      error);
}

TEST(RecorderConfig, DefaultsWhenNothingIsSet) {
  std::string error;
  auto c = Parse({}, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->max_stack_depth, 32u);
  EXPECT_EQ(c->alloc_sample_bytes, 0u);
  EXPECT_TRUE(c->follow_fork);
  EXPECT_FALSE(c->follow_exec);
  EXPECT_EQ(c->overflow, OverflowPolicy::kBlock);
  EXPECT_EQ(c->root_pid, -1);
}

TEST(RecorderConfig, ReadsEveryVariable) {
  std::string error;
  auto c = Parse({{"TIERSCOPE_OUTPUT", "/tmp/x.trace"},
                  {"TIERSCOPE_DEPTH", "16"},
                  {"TIERSCOPE_ALLOC_SAMPLE_BYTES", "524288"},
                  {"TIERSCOPE_MIN_SIZE", "64"},
                  {"TIERSCOPE_FOLLOW_FORK", "0"},
                  {"TIERSCOPE_FOLLOW_EXEC", "yes"},
                  {"TIERSCOPE_BUFFER_BYTES", "8192"},
                  {"TIERSCOPE_MEMORY_LIMIT", "1048576"},
                  {"TIERSCOPE_OVERFLOW", "drop"},
                  {"TIERSCOPE_UNWIND", "check"},
                  {"TIERSCOPE_PID", "1234"}},
                 &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->output, "/tmp/x.trace");
  EXPECT_EQ(c->max_stack_depth, 16u);
  EXPECT_EQ(c->alloc_sample_bytes, 524288u);
  EXPECT_EQ(c->min_size, 64u);
  EXPECT_FALSE(c->follow_fork);
  EXPECT_TRUE(c->follow_exec);
  EXPECT_EQ(c->buffer_bytes, 8192u);
  EXPECT_EQ(c->memory_limit_bytes, 1048576u);
  EXPECT_EQ(c->overflow, OverflowPolicy::kDrop);
  EXPECT_EQ(c->unwind, UnwindMode::kCheck);
  EXPECT_EQ(c->root_pid, 1234);
}

TEST(RecorderConfig, BadValuesGiveOneLineNamingTheVariable) {
  const std::map<std::string, std::string> bad[] = {
      {{"TIERSCOPE_DEPTH", "0"}},
      {{"TIERSCOPE_DEPTH", "300"}},
      {{"TIERSCOPE_DEPTH", "12x"}},
      {{"TIERSCOPE_DEPTH", "-3"}},
      {{"TIERSCOPE_ALLOC_SAMPLE_BYTES", ""}},
      {{"TIERSCOPE_MIN_SIZE", "99999999999999999999999"}},
      {{"TIERSCOPE_FOLLOW_FORK", "maybe"}},
      {{"TIERSCOPE_OVERFLOW", "grow"}},
      {{"TIERSCOPE_UNWIND", "fp"}},
      {{"TIERSCOPE_BUFFER_BYTES", "10"}},
      {{"TIERSCOPE_PID", "0"}},
      {{"TIERSCOPE_OUTPUT", ""}}};
  for (const auto& vars : bad) {
    std::string error;
    EXPECT_FALSE(Parse(vars, &error)) << vars.begin()->first << "=" << vars.begin()->second;
    EXPECT_NE(error.find(vars.begin()->first), std::string::npos) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
}

TEST(RecorderConfig, MemoryLimitMustHoldSeveralBuffers) {
  std::string error;
  EXPECT_FALSE(Parse({{"TIERSCOPE_BUFFER_BYTES", "1048576"}, {"TIERSCOPE_MEMORY_LIMIT", "2097152"}},
                     &error));
  EXPECT_NE(error.find("TIERSCOPE_MEMORY_LIMIT"), std::string::npos) << error;
}

TEST(RecorderConfig, OtherProcessesWriteBesideTheOutput) {
  EXPECT_EQ(PerProcessPath("out.trace", 42), "out.42.trace");
  EXPECT_EQ(PerProcessPath("/tmp/out", 42), "/tmp/out.42.trace");
  EXPECT_EQ(PerProcessPath("out.trace", 42, ".exec"), "out.42.exec.trace");
  EXPECT_EQ(PerProcessPath("out.trace", 7, ".before-exec-2"), "out.7.before-exec-2.trace");
  EXPECT_EQ(PerProcessPath(".trace", 1), ".1.trace");
}

}  // namespace
}  // namespace tierscope::recorder
