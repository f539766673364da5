// Typed access to profile files. Profiles are small enough (sites, not events) to hold whole.
#pragma once

#include <optional>
#include <string>

#include "profile.pb.h"
#include "tierscope/formats/container.h"

namespace tierscope::formats {

struct ProfileReadResult {
  profile::ProfileChunk profile;  // all chunks merged
  std::optional<FormatError>
      error;  // set when the file was damaged; profile holds what came before
  bool ok() const { return !error; }
};

// Never throws for a bad file: the error says what and where.
ProfileReadResult ReadProfile(const std::string& path);

// The profile without its sites (metadata, tiers, plan): what the placer reads when the plan
// carries its PlacementIndex (placement_index.h). Such a plan is in the first chunk, and reading
// stops there; in a profile written before, the plan is last: site chunks are then decompressed,
// not parsed.
ProfileReadResult ReadProfilePlan(const std::string& path);

// Reads a profile or throws FormatException: for callers that cannot use a partial profile.
profile::ProfileChunk LoadProfile(const std::string& path);

// Writes metadata, tiers and plan first (the plan with its PlacementIndex, made from the sites),
// then the sites in chunks of `sites_per_chunk`.
// Throws FormatException on I/O failure.
void WriteProfile(const std::string& path, const profile::ProfileChunk& profile,
                  int sites_per_chunk = 4096);
// The same for a profile the caller gives away: its sites move into the chunks, not copied (a
// copy of many deep sites took ~20% of `tierscope analyze` on a python3 trace).
void WriteProfile(const std::string& path, profile::ProfileChunk&& profile,
                  int sites_per_chunk = 4096);

}  // namespace tierscope::formats
