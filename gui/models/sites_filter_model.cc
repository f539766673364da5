#include "models/sites_filter_model.h"

#include "models/sites_model.h"

namespace tierscope::gui {

SitesFilterModel::SitesFilterModel(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(SitesModel::kSortRole);
  setSortCaseSensitivity(Qt::CaseInsensitive);
}

void SitesFilterModel::SetFilter(const QString& text, Field field) {
  text_ = text.trimmed();
  field_ = field;
  invalidateFilter();
}

bool SitesFilterModel::filterAcceptsRow(int source_row, const QModelIndex&) const {
  if (text_.isEmpty()) return true;
  // Reads the cached texts directly: no QVariant per row when filtering 100k sites.
  auto* model = static_cast<const SitesModel*>(sourceModel());
  auto matches = [&](const QString& s) { return s.contains(text_, Qt::CaseInsensitive); };
  switch (field_) {
    case Field::kFunction:
      return matches(model->FunctionText(source_row));
    case Field::kModule:
      return matches(model->ModuleText(source_row));
    case Field::kFile:
      return matches(model->SourceText(source_row));
    case Field::kAny:
      break;
  }
  return matches(model->FunctionText(source_row)) || matches(model->ModuleText(source_row)) ||
         matches(model->SourceText(source_row));
}

}  // namespace tierscope::gui
