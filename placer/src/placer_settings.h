// The preloaded placer's configuration: its TIERSCOPE_* environment (placer/README.md), read once
// and checked before anything is built. A setting the placer cannot follow gives one line of
// reason, and the program runs with default placement.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "profile.pb.h"
#include "tierscope/placer/run_config.h"

namespace tierscope::placer {

// kAuto (the default for keys deeper than frame 0): the walk by the call frame rules of each
// module (call_frame_walk.h), libunwind for the stacks they do not describe: libunwind's stacks,
// in code built with or without frame pointers, at little more than the frame-pointer walk's
// cost. kChecked: kAuto's walk, then libunwind's on every allocation, the differences counted
// (stats walk_mismatches); the frames used are libunwind's. For tests and doubts, not speed.
enum class Unwinder : uint8_t { kFramePointers, kLibunwind, kAuto, kChecked };

// The variables as they are; empty when unset.
struct PlacerEnvironment {
  std::string profile;         // TIERSCOPE_PROFILE
  std::string tiers;           // TIERSCOPE_TIERS
  std::string tiers_file;      // TIERSCOPE_TIERS_FILE
  std::string sites;           // TIERSCOPE_PLACER_SITES: learn sites into this file
  std::string stats;           // TIERSCOPE_PLACER_STATS
  std::string default_tier;    // TIERSCOPE_PLACER_DEFAULT_TIER
  std::string depth;           // TIERSCOPE_PLACER_DEPTH
  std::string unwind;          // TIERSCOPE_PLACER_UNWIND
  std::string arenas;          // TIERSCOPE_PLACER_ARENAS
  std::string primary;         // TIERSCOPE_PLACER_PRIMARY
  std::string timeline;        // TIERSCOPE_PLACER_TIMELINE (timeline.h)
  std::string timeline_every;  // TIERSCOPE_PLACER_TIMELINE_EVERY
};
PlacerEnvironment ReadPlacerEnvironment(const std::function<const char*(const char*)>& getenv);

struct PlacerSettings {
  std::string profile_path;  // empty: no profile (default placement on explicit tiers)
  // Empty without a profile. Its sites are not kept: what the placer needs of them is `index`.
  profile::ProfileChunk profile;
  // The plan's keys at `depth` (formats/placement_index.h): the plan's own when it was made at
  // that depth, else made from the sites here.
  profile::PlacementIndex index;
  ResolvedTiers tiers;
  int unknown_tier = -1;  // where sites the plan does not name go: a tier index, -1 default
  int depth = 1;          // frames of a site's key
  Unwinder unwinder = Unwinder::kFramePointers;
  int arenas_per_tier = 0;  // 0: 2 x CPUs
};

// Reads the profile, resolves the tiers and checks every setting. nullopt and one line in
// *reason (naming the variable) when the placer cannot run as asked.
std::optional<PlacerSettings> CheckPlacerSettings(const PlacerEnvironment& env,
                                                  std::string* reason);

// The settings with rules of their own. `text` is the variable's value (empty: unset).
// The site depth: TIERSCOPE_PLACER_DEPTH (1 to kMaxDepth), else the profile's, else 1.
std::optional<int> ParseSiteDepth(const std::string& text, int from_profile, std::string* reason);
// fp, libunwind, auto or check; unset: auto for keys deeper than frame 0, else frame pointers.
std::optional<Unwinder> ParseUnwinder(const std::string& text, int depth, std::string* reason);
// Arenas per tier, 1 to kMaxArenasPerTier; unset: 0 (the default).
std::optional<int> ParseArenasPerTier(const std::string& text, std::string* reason);

}  // namespace tierscope::placer
