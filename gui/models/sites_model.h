// One row per site. Texts are computed once at construction so sorting and filtering 100k rows
// never re-walks stacks; numeric columns answer SortRole with the raw number.
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <memory>
#include <vector>

#include "data/profile_source.h"

namespace tierscope::gui {

class SitesModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    kFunction,
    kModule,
    kSource,
    kTemperature,
    kAllocations,
    kBytes,
    kPeakLive,
    kLoads,
    kStores,
    kLifetime,
    kTier,
    kColumnCount
  };
  static constexpr int kSortRole = Qt::UserRole + 1;  // raw number (or text) to sort by
  static constexpr int kSiteIndexRole = Qt::UserRole + 2;

  explicit SitesModel(QObject* parent = nullptr);
  void SetData(std::shared_ptr<const ProfileData> data);
  // The same sites with another plan (the what-if): only the planned tier column changes, so
  // sorting, filter and selection stay.
  void UpdatePlan(std::shared_ptr<const ProfileData> data);
  const ProfileData* profile_data() const { return data_.get(); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // The texts the filter matches: function, module, source file.
  const QString& FunctionText(int row) const { return function_[row]; }
  const QString& ModuleText(int row) const { return module_[row]; }
  const QString& SourceText(int row) const { return source_[row]; }

 private:
  std::shared_ptr<const ProfileData> data_;
  QStringList function_, module_, source_, tier_;
  std::vector<double> lifetime_ns_;
  double max_temperature_ = 0;
};

}  // namespace tierscope::gui
