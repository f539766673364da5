#include "models/call_tree_model.h"

#include "data/site_text.h"

namespace tierscope::gui {

CallTreeModel::CallTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void CallTreeModel::SetTree(std::shared_ptr<CallTree> tree, Measure measure) {
  beginResetModel();
  tree_ = std::move(tree);
  measure_ = measure;
  endResetModel();
}

void CallTreeModel::SetMeasure(Measure measure) {
  // Values of every expanded row change, the structure does not: views repaint what they show.
  emit layoutAboutToBeChanged();
  measure_ = measure;
  emit layoutChanged();
  emit headerDataChanged(Qt::Horizontal, kValue, kShare);
}

CallNode* CallTreeModel::NodeAt(const QModelIndex& index) const {
  if (!tree_) return nullptr;
  return index.isValid() ? static_cast<CallNode*>(index.internalPointer()) : tree_->root();
}

QModelIndex CallTreeModel::index(int row, int column, const QModelIndex& parent) const {
  CallNode* node = NodeAt(parent);
  if (!node || column < 0 || column >= kColumnCount || row < 0) return {};
  const auto& children = tree_->Children(node);
  if (row >= int(children.size())) return {};
  return createIndex(row, column, children[row].get());
}

QModelIndex CallTreeModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  CallNode* node = static_cast<CallNode*>(child.internalPointer());
  CallNode* up = node->parent;
  if (!up || up == tree_->root()) return {};
  return createIndex(up->row, 0, up);
}

int CallTreeModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  CallNode* node = NodeAt(parent);
  return node ? int(tree_->Children(node).size()) : 0;
}

int CallTreeModel::columnCount(const QModelIndex&) const {
  return kColumnCount;
}

bool CallTreeModel::hasChildren(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return false;
  CallNode* node = NodeAt(parent);
  return node && tree_->HasChildren(node);
}

QVariant CallTreeModel::data(const QModelIndex& index, int role) const {
  CallNode* node = index.isValid() ? NodeAt(index) : nullptr;
  if (!node) return {};
  if (role == Qt::ToolTipRole) return QStringLiteral("%1\n%2").arg(node->frame, node->module);
  if (role == Qt::TextAlignmentRole && index.column() != kFrame)
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  const double total = tree_->root()->Value(measure_);
  const double value = node->Value(measure_);
  switch (index.column()) {
    case kFrame:
      return node->frame;
    case kValue:
      return measure_ == Measure::kSamples ? FormatCount(value) : FormatBytes(value);
    case kShare:
      return FormatPercent(total > 0 ? value / total : 0);
    case kSites:
      return qulonglong(node->sites.size());
    case kTemperature:
      return QString::number(node->max_temperature, 'g', 4);
  }
  return {};
}

QVariant CallTreeModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case kFrame:
      return QStringLiteral("Frame");
    case kValue:
      return MeasureName(measure_);
    case kShare:
      return QStringLiteral("Share");
    case kSites:
      return QStringLiteral("Sites");
    case kTemperature:
      return QStringLiteral("Hottest site");
  }
  return {};
}

}  // namespace tierscope::gui
