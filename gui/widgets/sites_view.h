// The sites tab: filter bar, sortable table, and the selected site's full stack.
#pragma once

#include <QWidget>
#include <memory>

#include "data/profile_source.h"

class QComboBox;
class QLineEdit;
class QPlainTextEdit;
class QTableView;

namespace tierscope::gui {

class LifetimeChart;
class SitesFilterModel;
class SitesModel;

class SitesView : public QWidget {
  Q_OBJECT
 public:
  explicit SitesView(QWidget* parent = nullptr);
  void SetData(std::shared_ptr<const ProfileData> data);

  QTableView* table() const { return table_; }
  QLineEdit* filter_edit() const { return filter_; }
  QPlainTextEdit* stack_view() const { return stack_; }
  SitesFilterModel* proxy() const { return proxy_; }
  SitesModel* model() const { return model_; }
  LifetimeChart* lifetime_chart() const { return lifetime_; }

 private:
  void ApplyFilter();
  void ShowSite(const QModelIndex& proxy_index);

  SitesModel* model_;
  SitesFilterModel* proxy_;
  QLineEdit* filter_;
  QComboBox* field_;
  QTableView* table_;
  QPlainTextEdit* stack_;
  LifetimeChart* lifetime_;
};

}  // namespace tierscope::gui
