#include "tierscope/formats/profile_io.h"

#include <algorithm>

#include "tierscope/formats/placement_index.h"

namespace tierscope::formats {

namespace {

// Each chunk of the profile at `path`, parsed as a `Chunk`, handed to `merge` in file order. A
// wrong kind of file or a chunk that does not parse stops it, with the error in the result.
// `merge` returns whether to go on.
template <class Chunk, class Merge>
ProfileReadResult ReadChunks(const std::string& path, Merge merge) {
  ProfileReadResult result;
  ContainerReader in(path);
  if (!in.error() && in.kind() != FileKind::kProfile) {
    result.error = FormatError{FormatError::Kind::kWrongKind, path, 12,
                               std::string("is a ") + FileKindName(in.kind()) + ", not a profile"};
    return result;
  }
  std::string raw;
  ChunkInfo info;
  Chunk chunk;
  while (in.Next(&raw, &info)) {
    if (!chunk.ParseFromString(raw)) {
      result.error = FormatError{FormatError::Kind::kCorrupt, path, info.offset,
                                 "chunk is not a valid profile chunk"};
      return result;
    }
    if (!merge(chunk, &result.profile)) return result;
  }
  if (in.error()) result.error = in.error();
  return result;
}

// `from` into `into`: moved while `into` is still empty (the usual case), else merged.
template <class T>
void MoveOrMerge(T* from, T* into, bool into_empty) {
  if (into_empty) {
    into->Swap(from);
  } else {
    into->MergeFrom(*from);
  }
}

}  // namespace

ProfileReadResult ReadProfile(const std::string& path) {
  return ReadChunks<profile::ProfileChunk>(
      path, [](profile::ProfileChunk& chunk, profile::ProfileChunk* out) {
        // Sites move in: MergeFrom copied every one (its stack, each frame's symbols), most of
        // the time of a load.
        google::protobuf::RepeatedPtrField<profile::Site> sites;
        sites.Swap(chunk.mutable_sites());
        out->MergeFrom(chunk);  // the rest: metadata, tiers, plan
        out->mutable_sites()->Reserve(out->sites_size() + sites.size());
        for (profile::Site& site : sites) *out->add_sites() = std::move(site);
        return true;
      });
}

ProfileReadResult ReadProfilePlan(const std::string& path) {
  return ReadChunks<profile::ProfilePlanView>(
      path, [](profile::ProfilePlanView& chunk, profile::ProfileChunk* out) {
        // A plan with its index is written first, before the sites: nothing after it is needed.
        // (Profiles written before kept the plan in the last chunk: read to the end.)
        const bool done = chunk.has_plan() && chunk.plan().has_index();
        // As ReadProfile's MergeFrom, for the fields the view has; what `out` lacks yet moves in
        // (every placed process reads this: a copy of each assignment was most of the read).
        const bool no_metadata = !out->has_metadata(), no_tiers = out->tiers_size() == 0,
                   no_plan = !out->has_plan();
        if (chunk.has_metadata()) {
          MoveOrMerge(chunk.mutable_metadata(), out->mutable_metadata(), no_metadata);
        }
        MoveOrMerge(chunk.mutable_tiers(), out->mutable_tiers(), no_tiers);
        if (chunk.has_plan()) MoveOrMerge(chunk.mutable_plan(), out->mutable_plan(), no_plan);
        return !done;
      });
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
    // The plan (with its index) and the tiers first: ReadProfilePlan stops after this chunk and
    // never decompresses the sites.
    profile::ProfileChunk head;
    *head.mutable_metadata() = profile.metadata();
    *head.mutable_tiers() = profile.tiers();
    if (profile.has_plan()) {
      *head.mutable_plan() = profile.plan();
      *head.mutable_plan()->mutable_index() = std::move(index);
    }
    append(head);
  }
  const int n = profile.sites_size();
  for (int begin = 0; begin < n; begin += sites_per_chunk) {
    profile::ProfileChunk chunk;
    const int end = std::min(n, begin + sites_per_chunk);
    for (int i = begin; i < end; ++i) AddSite(profile, i, &chunk);
    append(chunk);
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
