// Flame graph of a CallTree painted with QPainter: box width = the chosen measure, colour =
// the hottest site below. Click zooms into a frame, Escape/Backspace or a click on the root
// zooms out; frames matching the search are outlined, the others faded; tooltips per box.
#pragma once

#include <QWidget>
#include <memory>
#include <vector>

#include "data/call_tree.h"

namespace tierscope::gui {

class FlameGraphWidget : public QWidget {
  Q_OBJECT
 public:
  explicit FlameGraphWidget(QWidget* parent = nullptr);
  void SetTree(std::shared_ptr<CallTree> tree);
  void SetMeasure(Measure measure);
  void SetSearch(const QString& text);
  void ZoomTo(CallNode* node);  // null: the root
  void ZoomOut();
  CallNode* zoom_root() const { return zoom_; }
  int search_matches() const { return search_matches_; }
  CallNode* NodeAtPoint(const QPoint& point) const;

  QSize sizeHint() const override { return {800, 400}; }

 signals:
  void NodeActivated(CallNode* node);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool event(QEvent* event) override;

 private:
  struct Box {
    QRectF rect;
    CallNode* node;
  };
  void PaintNode(QPainter& p, CallNode* node, double x, double width, int level);

  std::shared_ptr<CallTree> tree_;
  Measure measure_ = Measure::kBytes;
  CallNode* zoom_ = nullptr;
  QString search_;
  int search_matches_ = 0;
  std::vector<Box> boxes_;  // what the last paint drew, for hit tests
};

}  // namespace tierscope::gui
