// The sampler catalogue on this machine: the timer and page-fault sources open wherever the
// kernel has perf events (VMs included); `auto` says what it chose; nothing at all is an error.
#include <gtest/gtest.h>

#include "sampler_catalogue.h"

namespace tierscope::recorder::sampling {
namespace {

std::vector<SourceDef> Open(std::vector<SamplerChoice> choices, std::vector<std::string>* notices,
                            std::string* error) {
  SamplingOptions options;
  options.samplers = std::move(choices);
  return OpenableSources(
      options, [&](const std::string& line) { notices->push_back(line); }, error);
}

TEST(SamplerCatalogue, NoChoiceIsSamplingOff) {
  std::vector<std::string> notices;
  std::string error;
  EXPECT_TRUE(Open({}, &notices, &error).empty());
  EXPECT_EQ(error, "sampling is off (--sampler none)");
  EXPECT_TRUE(notices.empty());
}

TEST(SamplerCatalogue, TimerAndFaultsOpenInTheOrderAsked) {
  std::vector<std::string> notices;
  std::string error;
  auto sources = Open({SamplerChoice::kTimer, SamplerChoice::kFaults}, &notices, &error);
  ASSERT_EQ(sources.size(), 2u) << error;
  EXPECT_EQ(sources[0].kind, trace::SAMPLER_TIMER);
  EXPECT_EQ(sources[1].kind, trace::SAMPLER_FAULTS);
  for (const SourceDef& s : sources) {
    EXPECT_FALSE(s.events.empty());
    EXPECT_EQ(s.configs.size(), s.events.size());  // one header config per sampled event
  }
  EXPECT_TRUE(notices.empty());
}

TEST(SamplerCatalogue, AutoSaysWhichSourceItChose) {
  std::vector<std::string> notices;
  std::string error;
  auto sources = Open({SamplerChoice::kAuto}, &notices, &error);
  ASSERT_EQ(sources.size(), 1u) << error;
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0].rfind(std::string("sampler auto: using ") + KindName(sources[0].kind), 0),
            0u)
      << notices[0];
}

}  // namespace
}  // namespace tierscope::recorder::sampling
