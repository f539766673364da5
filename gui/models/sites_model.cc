#include "models/sites_model.h"

#include <QColor>
#include <algorithm>

#include "data/site_text.h"
#include "models/color_scale.h"

namespace tierscope::gui {

SitesModel::SitesModel(QObject* parent) : QAbstractTableModel(parent) {}

void SitesModel::SetData(std::shared_ptr<const ProfileData> data) {
  beginResetModel();
  data_ = std::move(data);
  function_.clear();
  module_.clear();
  source_.clear();
  tier_.clear();
  lifetime_ns_.clear();
  max_temperature_ = 0;
  if (data_) {
    for (const profile::Site& site : data_->profile.sites()) {
      function_ << SiteFunction(site);
      module_ << SiteModule(site);
      source_ << SiteSource(site);
      tier_ << QString::fromStdString(data_->PlannedTier(site));
      lifetime_ns_.push_back(MedianLifetimeNs(site));
      max_temperature_ = std::max(max_temperature_, site.temperature());
    }
  }
  endResetModel();
}

void SitesModel::UpdatePlan(std::shared_ptr<const ProfileData> data) {
  if (!data_ || !data || data->profile.sites_size() != data_->profile.sites_size()) {
    SetData(std::move(data));
    return;
  }
  data_ = std::move(data);
  for (int i = 0; i < data_->profile.sites_size(); ++i)
    tier_[i] = QString::fromStdString(data_->PlannedTier(data_->profile.sites(i)));
  if (!tier_.isEmpty()) emit dataChanged(index(0, kTier), index(rowCount() - 1, kTier));
}

int SitesModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !data_ ? 0 : data_->profile.sites_size();
}

int SitesModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumnCount;
}

QVariant SitesModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !data_ || index.row() >= rowCount()) return {};
  const int row = index.row();
  const profile::Site& site = data_->profile.sites(row);
  if (role == kSiteIndexRole) return row;
  if (role == Qt::TextAlignmentRole)
    return index.column() >= kTemperature && index.column() <= kLifetime
               ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
               : QVariant();
  if (role == Qt::DecorationRole && index.column() == kTemperature)
    return TemperatureColor(TemperatureShare(site.temperature(), max_temperature_));
  if (role == Qt::ToolTipRole && index.column() <= kSource)
    return QStringLiteral("%1\n%2\n%3").arg(function_[row], module_[row], source_[row]);
  if (role != Qt::DisplayRole && role != kSortRole) return {};
  const bool sort = role == kSortRole;
  switch (index.column()) {
    case kFunction:
      return function_[row];
    case kModule:
      return module_[row];
    case kSource:
      return source_[row];
    case kTemperature:
      return sort ? QVariant(site.temperature())
                  : QVariant(QString::number(site.temperature(), 'g', 4));
    case kAllocations:
      return sort ? QVariant(qulonglong(site.allocations()))
                  : QVariant(FormatCount(site.allocations()));
    case kBytes:
      return sort ? QVariant(qulonglong(site.bytes())) : QVariant(FormatBytes(site.bytes()));
    case kPeakLive:
      return sort ? QVariant(qulonglong(site.peak_live_bytes()))
                  : QVariant(FormatBytes(site.peak_live_bytes()));
    case kLoads:
      return sort ? QVariant(qulonglong(site.load_samples()))
                  : QVariant(FormatCount(site.load_samples()));
    case kStores:
      return sort ? QVariant(qulonglong(site.store_samples()))
                  : QVariant(FormatCount(site.store_samples()));
    case kLifetime:
      return sort ? QVariant(lifetime_ns_[row]) : QVariant(FormatDuration(lifetime_ns_[row]));
    case kTier:
      return tier_[row];
  }
  return {};
}

QVariant SitesModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  static const char* kNames[] = {"Function",    "Module",   "Source",      "Temperature",
                                 "Allocations", "Bytes",    "Peak live",   "Loads",
                                 "Stores",      "Lifetime", "Planned tier"};
  if (role == Qt::DisplayRole && section >= 0 && section < kColumnCount)
    return QString::fromLatin1(kNames[section]);
  if (role == Qt::ToolTipRole && section == kTemperature)
    return QStringLiteral("Samples per byte-second of live memory, scaled by sampling rates");
  if (role == Qt::ToolTipRole && section == kLifetime)
    return QStringLiteral("Median lifetime of the site's freed allocations (- : never freed)");
  return {};
}

}  // namespace tierscope::gui
