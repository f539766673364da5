// Sorting and filtering over SitesModel: the filter text matches function, module or file.
#pragma once

#include <QSortFilterProxyModel>

namespace tierscope::gui {

class SitesFilterModel : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  enum class Field { kAny, kFunction, kModule, kFile };

  explicit SitesFilterModel(QObject* parent = nullptr);
  void SetFilter(const QString& text, Field field = Field::kAny);

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

 private:
  QString text_;
  Field field_ = Field::kAny;
};

}  // namespace tierscope::gui
