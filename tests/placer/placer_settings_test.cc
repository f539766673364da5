// The preloaded placer's settings from its environment: each variable's rule, and the whole check
// that names the variable it cannot follow.
#include <gtest/gtest.h>

#include <map>

#include "placer_settings.h"
#include "tierscope/placer/run_config.h"

namespace tierscope::placer {
namespace {

TEST(PlacerSettings, ReadsEachVariable) {
  const std::map<std::string, std::string> vars = {{"TIERSCOPE_PROFILE", "p.tsprof"},
                                                   {"TIERSCOPE_PLACER_DEPTH", "3"},
                                                   {"TIERSCOPE_PLACER_PRIMARY", "slow"}};
  const PlacerEnvironment env = ReadPlacerEnvironment([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(env.profile, "p.tsprof");
  EXPECT_EQ(env.depth, "3");
  EXPECT_EQ(env.primary, "slow");
  EXPECT_EQ(env.tiers, "");
  EXPECT_EQ(env.unwind, "");
}

TEST(PlacerSettings, SiteDepthFromTheVariableElseTheProfile) {
  std::string reason;
  EXPECT_EQ(ParseSiteDepth("", 3, &reason), 3);
  EXPECT_EQ(ParseSiteDepth("", 0, &reason), 1);
  EXPECT_EQ(ParseSiteDepth("", 12, &reason), 8);  // the placer walks at most 8 frames
  EXPECT_EQ(ParseSiteDepth("5", 3, &reason), 5);
  for (const char* bad : {"0", "9", "2x", "-1"}) {
    EXPECT_FALSE(ParseSiteDepth(bad, 3, &reason)) << bad;
    EXPECT_NE(reason.find("TIERSCOPE_PLACER_DEPTH='"), std::string::npos) << reason;
  }
}

TEST(PlacerSettings, UnwinderIsAutoForDeepKeysUnlessNamed) {
  std::string reason;
  EXPECT_EQ(ParseUnwinder("", 1, &reason), Unwinder::kFramePointers);
  EXPECT_EQ(ParseUnwinder("", 2, &reason), Unwinder::kAuto);
  EXPECT_EQ(ParseUnwinder("fp", 4, &reason), Unwinder::kFramePointers);
  EXPECT_EQ(ParseUnwinder("auto", 1, &reason), Unwinder::kAuto);
  EXPECT_EQ(ParseUnwinder("libunwind", 1, &reason), Unwinder::kLibunwind);
  EXPECT_EQ(ParseUnwinder("check", 1, &reason), Unwinder::kChecked);
  EXPECT_FALSE(ParseUnwinder("dwarf", 1, &reason));
  EXPECT_NE(reason.find("expected auto, fp, libunwind or check"), std::string::npos) << reason;
}

TEST(PlacerSettings, ArenasPerTierWithinBounds) {
  std::string reason;
  EXPECT_EQ(ParseArenasPerTier("", &reason), 0);
  EXPECT_EQ(ParseArenasPerTier("4", &reason), 4);
  EXPECT_EQ(ParseArenasPerTier("16", &reason), 16);
  for (const char* bad : {"0", "17", "four"}) {
    EXPECT_FALSE(ParseArenasPerTier(bad, &reason)) << bad;
    EXPECT_NE(reason.find("TIERSCOPE_PLACER_ARENAS='"), std::string::npos) << reason;
  }
}

TEST(PlacerSettings, TimelineIntervalInSecondsOrWithAUnit) {
  std::string error;
  EXPECT_EQ(ParseTimelineEvery("", &error), 10.0);
  EXPECT_EQ(ParseTimelineEvery("30", &error), 30.0);
  EXPECT_EQ(ParseTimelineEvery("2.5s", &error), 2.5);
  EXPECT_EQ(ParseTimelineEvery("500ms", &error), 0.5);
  EXPECT_EQ(ParseTimelineEvery("0.01", &error), 0.01);
  for (const char* bad : {"0", "5ms", "-1", "1h", "ten", "s", "ms", "90000", "nan", "inf"}) {
    error.clear();
    EXPECT_FALSE(ParseTimelineEvery(bad, &error)) << bad;
    EXPECT_NE(error.find(std::string("'") + bad + "'"), std::string::npos) << error;
  }
}

TEST(PlacerSettings, ExplicitTiersWithoutAProfile) {
  PlacerEnvironment env;
  env.tiers = "fast=0;slow=0";
  std::string reason;
  auto settings = CheckPlacerSettings(env, &reason);
  ASSERT_TRUE(settings) << reason;
  EXPECT_EQ(settings->tiers.tiers.size(), 2u);
  EXPECT_EQ(settings->tiers.source, "explicit");
  EXPECT_EQ(settings->unknown_tier, -1);  // default placement
  EXPECT_EQ(settings->depth, 1);
  EXPECT_EQ(settings->unwinder, Unwinder::kFramePointers);
  EXPECT_TRUE(settings->profile_path.empty());

  env.default_tier = "slow";
  settings = CheckPlacerSettings(env, &reason);
  ASSERT_TRUE(settings) << reason;
  EXPECT_EQ(settings->unknown_tier, 1);
}

TEST(PlacerSettings, TheReasonNamesTheVariable) {
  auto reason_for = [](PlacerEnvironment env) {
    std::string reason;
    EXPECT_FALSE(CheckPlacerSettings(env, &reason));
    return reason;
  };
  PlacerEnvironment env;
  env.tiers = "fast=0;slow=0";
  env.default_tier = "warp";
  EXPECT_EQ(reason_for(env).rfind("TIERSCOPE_PLACER_DEFAULT_TIER: 'warp'", 0), 0u);
  env.default_tier.clear();
  env.depth = "99";
  EXPECT_EQ(reason_for(env).rfind("TIERSCOPE_PLACER_DEPTH=", 0), 0u);
  env.depth.clear();
  env.tiers = "fast";
  EXPECT_EQ(reason_for(env).rfind("TIERSCOPE_TIERS: ", 0), 0u);
  env.tiers = "fast=0;slow=0";
  env.profile = "/nonexistent/plan.tsprof";
  EXPECT_EQ(reason_for(env).rfind("TIERSCOPE_PROFILE: ", 0), 0u);
}

}  // namespace
}  // namespace tierscope::placer
