#include "widgets/flame_graph_widget.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <cmath>

#include "data/site_text.h"
#include "models/color_scale.h"

namespace tierscope::gui {

namespace {

constexpr int kRowHeight = 20;
constexpr double kMinBoxWidth = 2.0;  // narrower boxes (and their subtrees) are not drawn

}  // namespace

FlameGraphWidget::FlameGraphWidget(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(false);
  setMinimumHeight(120);
}

void FlameGraphWidget::SetTree(std::shared_ptr<CallTree> tree) {
  tree_ = std::move(tree);
  zoom_ = tree_ ? tree_->root() : nullptr;
  update();
}

void FlameGraphWidget::SetMeasure(Measure measure) {
  measure_ = measure;
  update();
}

void FlameGraphWidget::SetSearch(const QString& text) {
  search_ = text.trimmed();
  update();
}

void FlameGraphWidget::ZoomTo(CallNode* node) {
  if (!tree_) return;
  zoom_ = node ? node : tree_->root();
  update();
}

void FlameGraphWidget::ZoomOut() {
  if (zoom_ && zoom_->parent) ZoomTo(zoom_->parent);
}

void FlameGraphWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  boxes_.clear();
  search_matches_ = 0;
  if (!tree_ || !zoom_ || zoom_->Value(measure_) <= 0) {
    p.setPen(palette().color(QPalette::Text));
    p.drawText(rect(), Qt::AlignCenter,
               tree_ ? QStringLiteral("Nothing to show for %1").arg(MeasureName(measure_))
                     : QStringLiteral("Open a profile (File → Open)"));
    return;
  }
  PaintNode(p, zoom_, 0, width(), 0);
}

void FlameGraphWidget::PaintNode(QPainter& p, CallNode* node, double x, double w, int level) {
  const QRectF box(x, level * kRowHeight, w, kRowHeight - 1);
  if (box.top() > height()) return;
  const bool matches = !search_.isEmpty() && node->frame.contains(search_, Qt::CaseInsensitive);
  if (matches) ++search_matches_;
  QColor fill = TemperatureColor(TemperatureShare(node->max_temperature, tree_->max_temperature()));
  if (!search_.isEmpty() && !matches) {  // fade what does not match, keep the hue
    float h, s, v;
    fill.getHsvF(&h, &s, &v);
    fill = QColor::fromHsvF(h, s * 0.25f, v);
  }
  p.fillRect(box, fill);
  if (matches) {
    p.setPen(QPen(palette().color(QPalette::Highlight), 2));
    p.drawRect(box.adjusted(1, 1, -1, -1));
  }
  if (w > 30) {
    p.setPen(Qt::black);  // boxes are always light enough for black text
    p.drawText(box.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft,
               p.fontMetrics().elidedText(node->frame, Qt::ElideRight, int(w) - 6));
  }
  boxes_.push_back({box, node});
  const double total = node->Value(measure_);
  if (total <= 0) return;
  double cx = x;
  for (const auto& child : tree_->Children(node)) {
    const double cw = w * child->Value(measure_) / total;
    if (cw >= kMinBoxWidth) PaintNode(p, child.get(), cx, cw, level + 1);
    cx += cw;
  }
}

CallNode* FlameGraphWidget::NodeAtPoint(const QPoint& point) const {
  for (const Box& b : boxes_)
    if (b.rect.contains(point)) return b.node;
  return nullptr;
}

void FlameGraphWidget::mousePressEvent(QMouseEvent* event) {
  CallNode* node = NodeAtPoint(event->pos());
  if (event->button() == Qt::RightButton || (node && node == zoom_)) {
    ZoomOut();
  } else if (node) {
    ZoomTo(node);
    emit NodeActivated(node);
  }
}

void FlameGraphWidget::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Escape || event->key() == Qt::Key_Backspace) {
    ZoomOut();
  } else if (event->key() == Qt::Key_Home) {
    ZoomTo(nullptr);
  } else {
    QWidget::keyPressEvent(event);
  }
}

bool FlameGraphWidget::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    CallNode* node = NodeAtPoint(help->pos());
    if (!node || !tree_) {
      QToolTip::hideText();
      return true;
    }
    const double value = node->Value(measure_);
    const double total = tree_->root()->Value(measure_);
    QToolTip::showText(
        help->globalPos(),
        QStringLiteral("%1\n%2\n%3: %4 (%5 of all)\nsites: %6, hottest temperature %7")
            .arg(node->frame, node->module, MeasureName(measure_),
                 measure_ == Measure::kSamples ? FormatCount(value) : FormatBytes(value),
                 FormatPercent(total > 0 ? value / total : 0))
            .arg(node->sites.size())
            .arg(node->max_temperature, 0, 'g', 4),
        this);
    return true;
  }
  return QWidget::event(event);
}

}  // namespace tierscope::gui
