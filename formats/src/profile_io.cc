#include "tierscope/formats/profile_io.h"

#include "tierscope/formats/placement_index.h"

#include <algorithm>

namespace tierscope::formats {

ProfileReadResult ReadProfile(const std::string& path) {
  ProfileReadResult result;
  ContainerReader in(path);
  if (!in.error() && in.kind() != FileKind::kProfile) {
    result.error = FormatError{FormatError::Kind::kWrongKind, path, 12,
                               std::string("is a ") + FileKindName(in.kind()) + ", not a profile"};
    return result;
  }
  std::string raw;
  ChunkInfo info;
  profile::ProfileChunk chunk;
  while (in.Next(&raw, &info)) {
    if (!chunk.ParseFromString(raw)) {
      result.error = FormatError{FormatError::Kind::kCorrupt, path, info.offset,
                                 "chunk is not a valid profile chunk"};
      return result;
    }
    // Sites move in: MergeFrom copied every one (its stack, each frame's symbols), most of the
    // time of a load (the placer loads the profile in every process it starts).
    google::protobuf::RepeatedPtrField<profile::Site> sites;
    sites.Swap(chunk.mutable_sites());
    result.profile.MergeFrom(chunk);  // the rest: metadata, tiers, plan
    result.profile.mutable_sites()->Reserve(result.profile.sites_size() + sites.size());
    for (profile::Site& site : sites) *result.profile.add_sites() = std::move(site);
  }
  if (in.error()) result.error = in.error();
  return result;
}

ProfileReadResult ReadProfilePlan(const std::string& path) {
  ProfileReadResult result;
  ContainerReader in(path);
  if (!in.error() && in.kind() != FileKind::kProfile) {
    result.error = FormatError{FormatError::Kind::kWrongKind, path, 12,
                               std::string("is a ") + FileKindName(in.kind()) + ", not a profile"};
    return result;
  }
  std::string raw;
  ChunkInfo info;
  profile::ProfilePlanView chunk;
  while (in.Next(&raw, &info)) {
    if (!chunk.ParseFromString(raw)) {
      result.error = FormatError{FormatError::Kind::kCorrupt, path, info.offset,
                                 "chunk is not a valid profile chunk"};
      return result;
    }
    // As ReadProfile's MergeFrom, for the fields the view has.
    if (chunk.has_metadata()) result.profile.mutable_metadata()->MergeFrom(chunk.metadata());
    result.profile.mutable_tiers()->MergeFrom(chunk.tiers());
    if (chunk.has_plan()) result.profile.mutable_plan()->MergeFrom(chunk.plan());
  }
  if (in.error()) result.error = in.error();
  return result;
}

profile::ProfileChunk LoadProfile(const std::string& path) {
  auto result = ReadProfile(path);
  if (result.error) throw FormatException(*result.error);
  return std::move(result.profile);
}

namespace {

void AddSite(const profile::ProfileChunk& from, int i, profile::ProfileChunk* chunk) {
  *chunk->add_sites() = from.sites(i);
}
void AddSite(profile::ProfileChunk& from, int i, profile::ProfileChunk* chunk) {
  *chunk->add_sites() = std::move(*from.mutable_sites(i));
}

// `Profile` is const (sites copied) or not (sites moved).
template <class Profile>
void Write(const std::string& path, Profile& profile, int sites_per_chunk) {
  // Made before the sites are written (the moving overload empties them).
  profile::PlacementIndex index;
  if (profile.has_plan()) index = IndexPlan(profile, PlanKeyDepth(profile));
  ContainerWriter out(path, FileKind::kProfile);
  std::string raw;
  auto append = [&](const profile::ProfileChunk& chunk) {
    raw.clear();
    chunk.SerializeToString(&raw);
    out.Append(raw);
  };
  {
    profile::ProfileChunk head;
    *head.mutable_metadata() = profile.metadata();
    append(head);
  }
  const int n = profile.sites_size();
  for (int begin = 0; begin < n; begin += sites_per_chunk) {
    profile::ProfileChunk chunk;
    const int end = std::min(n, begin + sites_per_chunk);
    for (int i = begin; i < end; ++i) AddSite(profile, i, &chunk);
    append(chunk);
  }
  if (profile.tiers_size() > 0 || profile.has_plan()) {
    profile::ProfileChunk tail;
    *tail.mutable_tiers() = profile.tiers();
    if (profile.has_plan()) {
      *tail.mutable_plan() = profile.plan();
      *tail.mutable_plan()->mutable_index() = std::move(index);
    }
    append(tail);
  }
  out.Close();
}

}  // namespace

void WriteProfile(const std::string& path, const profile::ProfileChunk& profile,
                  int sites_per_chunk) {
  Write(path, profile, sites_per_chunk);
}

void WriteProfile(const std::string& path, profile::ProfileChunk&& profile, int sites_per_chunk) {
  Write(path, profile, sites_per_chunk);
}

}  // namespace tierscope::formats
