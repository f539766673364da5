// The call tree tab: direction (top-down / bottom-up), measure, search; the lazy tree on the left
// and the flame graph of the same tree on the right. Selecting a tree row zooms the flame graph.
#pragma once

#include <QWidget>
#include <memory>

#include "data/call_tree.h"

class QComboBox;
class QLineEdit;
class QTreeView;

namespace tierscope::gui {

class CallTreeModel;
class FlameGraphWidget;

class CallTreeView : public QWidget {
  Q_OBJECT
 public:
  explicit CallTreeView(QWidget* parent = nullptr);
  void SetData(std::shared_ptr<const ProfileData> data);
  void SetDirection(Direction direction);
  void SetMeasure(Measure measure);

  CallTreeModel* model() const { return model_; }
  FlameGraphWidget* flame_graph() const { return flame_; }
  QTreeView* tree_view() const { return tree_; }
  QLineEdit* search_edit() const { return search_; }

 private:
  void Rebuild();

  std::shared_ptr<const ProfileData> data_;
  CallTreeModel* model_;
  QComboBox* direction_;
  QComboBox* measure_;
  QLineEdit* search_;
  QTreeView* tree_;
  FlameGraphWidget* flame_;
};

}  // namespace tierscope::gui
