#include "data/profile_source.h"

#include "tierscope/formats/profile_io.h"

namespace tierscope::gui {

const std::string& ProfileData::PlannedTier(const profile::Site& site) const {
  auto it = tier_by_site.find(site.id());
  return it != tier_by_site.end() ? it->second : profile.plan().default_tier();
}

std::shared_ptr<ProfileData> ProfileSource::FromProfile(profile::ProfileChunk profile,
                                                        QString path) {
  auto data = std::make_shared<ProfileData>();
  data->path = std::move(path);
  data->profile = std::move(profile);
  for (const profile::Assignment& a : data->profile.plan().assignments())
    data->tier_by_site[a.site_id()] = a.tier();
  return data;
}

bool ProfileSource::KindOf(const QString& path, formats::FileKind* kind, QString* error) {
  formats::ContainerReader reader(path.toStdString());
  if (reader.error()) {
    *error = QString::fromStdString(reader.error()->Message());
    return false;
  }
  *kind = reader.kind();
  return true;
}

LoadResult ProfileSource::Open(const QString& path) {
  formats::ProfileReadResult read = formats::ReadProfile(path.toStdString());
  if (read.error) {
    // A damaged profile would show a partial picture as if it were whole: refuse it instead.
    return {nullptr, QString::fromStdString(read.error->Message())};
  }
  return {FromProfile(std::move(read.profile), path), {}};
}

}  // namespace tierscope::gui
