// The viewer's one seam to data on disk: profiles through formats::ReadProfile, traces through
// the analyzer (data/trace_analysis.h), so no view ever touches a file or a parser.
#pragma once

#include <QString>
#include <memory>
#include <string>
#include <unordered_map>

#include "profile.pb.h"
#include "tierscope/formats/container.h"

namespace tierscope::gui {

// A loaded profile plus the indexes every view needs; immutable once built, shared by the views.
struct AddressMapData;

struct ProfileData {
  QString path;
  profile::ProfileChunk profile;
  // Address space x time, binned while a trace was analyzed; null for a profile.
  std::shared_ptr<const AddressMapData> address_map;
  // Site id -> planned tier (Plan.assignments; sites without one fall to Plan.default_tier).
  std::unordered_map<uint64_t, std::string> tier_by_site;

  // The tier the stored plan puts `site` in, or "" when the profile carries no plan.
  const std::string& PlannedTier(const profile::Site& site) const;
};

struct LoadResult {
  std::shared_ptr<const ProfileData> data;  // null on error
  QString error;                            // one line, from formats::FormatError::Message()
};

class ProfileSource {
 public:
  // Never throws: a missing, corrupt or wrong-kind file gives an error and no data.
  static LoadResult Open(const QString& path);
  // Reads only the file header: is `path` a trace or a profile? False and a one-line error for
  // anything that is not a tierscope file (formats::ContainerReader checks magic and version).
  static bool KindOf(const QString& path, formats::FileKind* kind, QString* error);
  // Builds the indexes over an in-memory profile (tests, and later the analyzer's output).
  static std::shared_ptr<ProfileData> FromProfile(profile::ProfileChunk profile, QString path = {});
};

}  // namespace tierscope::gui
