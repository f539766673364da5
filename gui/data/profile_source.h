// The viewer's one seam to data on disk. Today it reads profiles through formats::ReadProfile;
// phase 2 adds traces (through tierscope_analyzer, in a background thread) and the planner here,
// so no view ever touches a file or a parser.
#pragma once

#include <QString>
#include <memory>
#include <string>
#include <unordered_map>

#include "profile.pb.h"

namespace tierscope::gui {

// A loaded profile plus the indexes every view needs; immutable once built, shared by the views.
struct ProfileData {
  QString path;
  profile::ProfileChunk profile;
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
  // Builds the indexes over an in-memory profile (tests, and later the analyzer's output).
  static std::shared_ptr<const ProfileData> FromProfile(profile::ProfileChunk profile,
                                                        QString path = {});
};

}  // namespace tierscope::gui
