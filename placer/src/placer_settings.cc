#include "placer_settings.h"

#include <algorithm>
#include <cstdlib>

#include "site_cache.h"
#include "tier_arenas.h"
#include "tierscope/formats/placement_index.h"
#include "tierscope/formats/profile_io.h"

namespace tierscope::placer {
namespace {

bool AllDigits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

PlacerEnvironment ReadPlacerEnvironment(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) {
    const char* value = getenv(name);
    return std::string(value ? value : "");
  };
  PlacerEnvironment env;
  env.profile = get("TIERSCOPE_PROFILE");
  env.tiers = get("TIERSCOPE_TIERS");
  env.tiers_file = get("TIERSCOPE_TIERS_FILE");
  env.sites = get("TIERSCOPE_PLACER_SITES");
  env.stats = get("TIERSCOPE_PLACER_STATS");
  env.default_tier = get("TIERSCOPE_PLACER_DEFAULT_TIER");
  env.depth = get("TIERSCOPE_PLACER_DEPTH");
  env.unwind = get("TIERSCOPE_PLACER_UNWIND");
  env.arenas = get("TIERSCOPE_PLACER_ARENAS");
  env.primary = get("TIERSCOPE_PLACER_PRIMARY");
  env.timeline = get("TIERSCOPE_PLACER_TIMELINE");
  env.timeline_every = get("TIERSCOPE_PLACER_TIMELINE_EVERY");
  return env;
}

std::optional<int> ParseSiteDepth(const std::string& text, int from_profile, std::string* reason) {
  int depth = from_profile;
  if (!text.empty()) {
    depth = AllDigits(text) ? std::atoi(text.c_str()) : 0;
    if (depth < 1 || depth > kMaxDepth) {
      *reason = "TIERSCOPE_PLACER_DEPTH='" + text + "': expected 1 to 8";
      return std::nullopt;
    }
  }
  if (depth < 1) depth = 1;
  return std::min(depth, kMaxDepth);
}

std::optional<Unwinder> ParseUnwinder(const std::string& text, int depth, std::string* reason) {
  // Deeper frames from frame pointers are wrong in code built without them (most distribution
  // binaries), and the recorder's stacks come from libunwind: for keys deeper than frame 0 the
  // default (auto) gives libunwind's stacks, through frame pointers where the call frame
  // information says they are exact (allocation_path.h). `fp` and `libunwind` stay selectable.
  if (text == "libunwind") return Unwinder::kLibunwind;
  if (text == "check") return Unwinder::kChecked;
  if (text == "auto" || (text.empty() && depth > 1)) return Unwinder::kAuto;
  if (text.empty() || text == "fp") return Unwinder::kFramePointers;
  *reason = "TIERSCOPE_PLACER_UNWIND='" + text + "': expected auto, fp, libunwind or check";
  return std::nullopt;
}

std::optional<int> ParseArenasPerTier(const std::string& text, std::string* reason) {
  if (text.empty()) return 0;
  const int arenas = AllDigits(text) ? std::atoi(text.c_str()) : 0;
  if (arenas < 1 || arenas > kMaxArenasPerTier) {
    *reason = "TIERSCOPE_PLACER_ARENAS='" + text + "': expected 1 to 16";
    return std::nullopt;
  }
  return arenas;
}

std::optional<PlacerSettings> CheckPlacerSettings(const PlacerEnvironment& env,
                                                  std::string* reason) {
  PlacerSettings out;
  std::string error;
  std::optional<std::vector<TierSpec>> explicit_tiers;
  if (!env.tiers.empty() || !env.tiers_file.empty()) {
    explicit_tiers = !env.tiers.empty() ? ParseTierSpec(env.tiers, &error)
                                        : ReadTierFile(env.tiers_file, &error);
    if (!explicit_tiers) {
      *reason = (env.tiers.empty() ? "TIERSCOPE_TIERS_FILE: " : "TIERSCOPE_TIERS: ") + error;
      return std::nullopt;
    }
  }
  out.profile_path = env.profile;
  if (!env.profile.empty()) {
    // Without its sites (every process the placer starts reads the profile): the plan's index
    // stands for them, unless it is missing or made at another depth (below).
    auto read = formats::ReadProfilePlan(env.profile);
    if (!read.ok()) {
      *reason = "TIERSCOPE_PROFILE: " + read.error->Message();
      return std::nullopt;
    }
    out.profile = std::move(read.profile);
  }
  auto resolved = ResolveTiers(explicit_tiers ? &*explicit_tiers : nullptr,
                               env.profile.empty() ? nullptr : &out.profile, &error);
  if (!resolved) {
    *reason = error;
    return std::nullopt;
  }
  out.tiers = std::move(*resolved);
  if (!env.profile.empty()) {
    if (auto problem = CheckPlan(out.profile, out.tiers.tiers)) {
      *reason = "TIERSCOPE_PROFILE=" + env.profile + ": " + *problem;
      return std::nullopt;
    }
  }
  const std::string unknown =
      env.default_tier.empty() ? out.profile.plan().default_tier() : env.default_tier;
  out.unknown_tier = TierIndex(out.tiers.tiers, unknown);
  if (out.unknown_tier == -2) {
    *reason = "TIERSCOPE_PLACER_DEFAULT_TIER: '" + unknown + "' is not one of the tiers here";
    return std::nullopt;
  }
  int from_profile = static_cast<int>(out.profile.plan().site_depth());
  if (from_profile == 0) from_profile = static_cast<int>(out.profile.metadata().site_depth());
  const auto depth = ParseSiteDepth(env.depth, from_profile, reason);
  if (!depth) return std::nullopt;
  out.depth = *depth;
  if (!env.profile.empty()) {
    const auto key_depth = static_cast<uint32_t>(out.depth);
    if (formats::IndexUsable(out.profile.plan(), key_depth)) {
      out.index = out.profile.plan().index();
    } else {
      auto read = formats::ReadProfile(env.profile);
      if (!read.ok()) {
        *reason = "TIERSCOPE_PROFILE: " + read.error->Message();
        return std::nullopt;
      }
      out.index = formats::IndexPlan(read.profile, key_depth);
    }
  }
  const auto unwinder = ParseUnwinder(env.unwind, out.depth, reason);
  if (!unwinder) return std::nullopt;
  out.unwinder = *unwinder;
  const auto arenas = ParseArenasPerTier(env.arenas, reason);
  if (!arenas) return std::nullopt;
  out.arenas_per_tier = *arenas;
  return out;
}

}  // namespace tierscope::placer
