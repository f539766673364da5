// A lazy QAbstractItemModel over CallTree: rows exist only for the levels a view expands.
#pragma once

#include <QAbstractItemModel>
#include <memory>

#include "data/call_tree.h"

namespace tierscope::gui {

class CallTreeModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { kFrame, kValue, kShare, kSites, kTemperature, kColumnCount };

  explicit CallTreeModel(QObject* parent = nullptr);
  void SetTree(std::shared_ptr<CallTree> tree, Measure measure);
  void SetMeasure(Measure measure);
  Measure measure() const { return measure_; }
  CallTree* tree() const { return tree_.get(); }
  CallNode* NodeAt(const QModelIndex& index) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  bool hasChildren(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::shared_ptr<CallTree> tree_;
  Measure measure_ = Measure::kBytes;
};

}  // namespace tierscope::gui
