#include "widgets/address_map_widget.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QLinearGradient>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <vector>

#include "data/site_text.h"
#include "models/color_scale.h"

namespace tierscope::gui {

namespace {
constexpr int kAxisWidth = 160;    // address labels: 0x + 16 digits
constexpr int kLegendWidth = 110;  // colour ramp
constexpr int kTimeHeight = 34;    // time labels and the scale's name
constexpr int kMargin = 8;

QString Hex(uint64_t address) {
  return QStringLiteral("0x%1").arg(address, 0, 16);
}

// Scales [lo, hi) by `factor`, keeping the point at `anchor` (0..1 along it) where it is.
void ZoomAround(double* lo, double* hi, double factor, double anchor) {
  const double at = *lo + (*hi - *lo) * anchor;
  const double span = (*hi - *lo) * factor;
  *lo = at - span * anchor;
  *hi = *lo + span;
}

}  // namespace

AddressMapWidget::AddressMapWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(400, 250);
  setFocusPolicy(Qt::StrongFocus);
}

void AddressMapWidget::SetData(std::shared_ptr<const ProfileData> data) {
  data_ = std::move(data);
  map_ = data_ ? data_->address_map : nullptr;
  ResetView();
}

void AddressMapWidget::SetLogScale(bool log_scale) {
  log_scale_ = log_scale;
  Changed();
}

void AddressMapWidget::ResetView() {
  y0_ = 0;
  y1_ = map_ ? std::max<double>(double(map_->axis_bytes), kMinAxisBytes) : 1;
  t0_ = 0;
  t1_ = map_ ? double(map_->duration_ns) : 1;
  Changed();
}

void AddressMapWidget::Changed() {
  dirty_ = true;
  update();
}

void AddressMapWidget::Clamp() {
  if (!map_) return;
  const double axis = std::max<double>(double(map_->axis_bytes), kMinAxisBytes);
  double h = std::clamp(y1_ - y0_, kMinAxisBytes, axis);
  y0_ = std::clamp(y0_, 0.0, axis - h);
  y1_ = y0_ + h;
  const double total = double(map_->duration_ns);
  double w = std::clamp(t1_ - t0_, std::min(total, kMinTimeBins * map_->BinNs()), total);
  t0_ = std::clamp(t0_, 0.0, total - w);
  t1_ = t0_ + w;
}

void AddressMapWidget::ZoomAddress(double factor, double anchor) {
  ZoomAround(&y0_, &y1_, factor, anchor);
  Clamp();
  Changed();
}

void AddressMapWidget::ZoomTime(double factor, double anchor) {
  ZoomAround(&t0_, &t1_, factor, anchor);
  Clamp();
  Changed();
}

void AddressMapWidget::ShowAddresses(uint64_t start, uint64_t end) {
  if (!map_) return;
  y0_ = map_->ToAxis(start);
  y1_ = std::max(y0_ + 1, map_->ToAxis(start) + double(end - start));
  t0_ = 0;
  t1_ = double(map_->duration_ns);
  Clamp();
  Changed();
}

QRect AddressMapWidget::MapRect() const {
  return QRect(kAxisWidth, kMargin, std::max(1, width() - kAxisWidth - kLegendWidth - kMargin),
               std::max(1, height() - kTimeHeight - 2 * kMargin));
}

double AddressMapWidget::AxisAt(int y) const {
  const QRect area = MapRect();
  return y0_ + (y1_ - y0_) * double(y - area.top()) / area.height();
}

double AddressMapWidget::TimeAt(int x) const {
  const QRect area = MapRect();
  return t0_ + (t1_ - t0_) * double(x - area.left()) / area.width();
}

void AddressMapWidget::Render() {
  dirty_ = false;
  blocks_drawn_ = 0;
  view_max_ = 0;
  const QRect area = MapRect();
  image_ = QImage(area.size(), QImage::Format_RGB32);
  image_.fill(palette().color(QPalette::Base));
  if (!map_) return;
  const int w = area.width(), h = area.height();
  const double y_scale = h / (y1_ - y0_), x_scale = w / (t1_ - t0_);
  const double bin_ns = map_->BinNs();
  const uint64_t cell_bytes = uint64_t(1) << map_->cell_shift;

  // Density: each visible cell adds its count to the pixels it covers.
  std::vector<uint32_t> density(size_t(w) * h, 0);
  const uint64_t first_unit = map_->FromAxis(y0_) >> map_->cell_shift;
  const uint64_t last_unit = map_->FromAxis(y1_) >> map_->cell_shift;
  auto it = std::lower_bound(map_->cells.begin(), map_->cells.end(), first_unit,
                             [](const AddressCell& c, uint64_t unit) { return c.unit < unit; });
  for (; it != map_->cells.end() && it->unit <= last_unit; ++it) {
    const double a0 = map_->ToAxis(it->unit << map_->cell_shift);
    const double a1 = a0 + double(cell_bytes);
    const double b0 = it->bin * bin_ns, b1 = b0 + bin_ns;
    if (a1 <= y0_ || a0 >= y1_ || b1 <= t0_ || b0 >= t1_) continue;
    const int py0 = std::clamp(int(std::floor((a0 - y0_) * y_scale)), 0, h - 1);
    const int py1 = std::clamp(int(std::ceil((a1 - y0_) * y_scale)), py0 + 1, h);
    const int px0 = std::clamp(int(std::floor((b0 - t0_) * x_scale)), 0, w - 1);
    const int px1 = std::clamp(int(std::ceil((b1 - t0_) * x_scale)), px0 + 1, w);
    for (int y = py0; y < py1; ++y)
      for (int x = px0; x < px1; ++x) {
        uint32_t& d = density[size_t(y) * w + x];
        d += it->count;
        view_max_ = std::max(view_max_, d);
      }
  }
  for (int y = 0; y < h; ++y) {
    auto* line = reinterpret_cast<QRgb*>(image_.scanLine(y));
    for (int x = 0; x < w; ++x) {
      const uint32_t d = density[size_t(y) * w + x];
      if (d) line[x] = DensityColor(Normalize(d, view_max_, log_scale_)).rgb();
    }
  }

  QPainter p(&image_);
  // Cut-out gaps: a dotted line where one span ends and the next begins.
  QPen cut(palette().color(QPalette::Mid), 1, Qt::DotLine);
  p.setPen(cut);
  int last_cut = -100;
  for (size_t i = 1; i < map_->spans.size(); ++i) {
    const double a = double(map_->spans[i].axis) -
                     0.5 * (double(map_->spans[i].axis) - map_->ToAxis(map_->spans[i - 1].end - 1));
    if (a < y0_ || a >= y1_) continue;
    const int y = int((a - y0_) * y_scale);
    if (y - last_cut < 6) continue;  // hundreds of cuts in a few pixels would be a grey smear
    p.drawLine(0, y, w, y);
    last_cut = y;
  }
  // Allocations: outlines in the text colour, so they read on dark and light palettes. Blocks
  // under 3 pixels tall are left out: at an overview they would paint the heap solid and hide
  // the samples; zooming in brings them back.
  QColor outline = palette().color(QPalette::Text);
  outline.setAlpha(170);
  p.setPen(QPen(outline, 1));
  p.setBrush(Qt::NoBrush);
  for (const AddressBlock& b : map_->blocks) {
    if (double(b.free_ns) < t0_ || double(b.alloc_ns) > t1_) continue;
    const double a0 = map_->ToAxis(b.start), a1 = a0 + double(b.size);
    if (a1 <= y0_ || a0 >= y1_) continue;
    const double x0 = std::max(-1.0, (double(b.alloc_ns) - t0_) * x_scale);
    const double x1 = std::min(w + 1.0, (double(b.free_ns) - t0_) * x_scale);
    const double top = std::max(-1.0, (a0 - y0_) * y_scale);
    const double bottom = std::min(h + 1.0, (a1 - y0_) * y_scale);
    if (bottom - top < 3) continue;
    p.drawRect(QRectF(x0, top, std::max(1.0, x1 - x0), bottom - top));
    ++blocks_drawn_;
  }
}

void AddressMapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  p.setPen(palette().color(QPalette::Text));
  if (!map_) {
    p.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap,
               data_ ? QStringLiteral("The address map needs a trace: open the .trace file the "
                                      "profile was made from")
                     : QStringLiteral("Open a trace (File → Open)"));
    return;
  }
  const QRect area = MapRect();
  if (dirty_ || image_.size() != area.size()) Render();
  p.drawImage(area.topLeft(), image_);
  p.drawRect(area.adjusted(-1, -1, 0, 0));

  // Address ticks on the left: real addresses, read back from the compacted axis.
  const int fh = p.fontMetrics().height();
  const int ticks = std::max(2, area.height() / (fh * 3));
  for (int i = 0; i <= ticks; ++i) {
    const int y = area.top() + area.height() * i / ticks;
    p.drawLine(area.left() - 4, y, area.left() - 1, y);
    p.drawText(QRect(0, y - fh / 2, kAxisWidth - 8, fh), Qt::AlignRight | Qt::AlignVCenter,
               Hex(map_->FromAxis(AxisAt(y))));
  }
  // Time ticks below.
  const int tticks = std::max(2, area.width() / 140);
  for (int i = 0; i <= tticks; ++i) {
    const int x = area.left() + area.width() * i / tticks;
    p.drawLine(x, area.bottom() + 1, x, area.bottom() + 4);
    p.drawText(QRect(x - 60, area.bottom() + 4, 120, fh), Qt::AlignCenter,
               FormatDuration(TimeAt(x)));
  }
  p.drawText(QRect(area.left(), area.bottom() + 4 + fh, area.width(), fh), Qt::AlignCenter,
             QStringLiteral("time →   (address ↓ %1 per pixel; cells of %2; %3 allocations ≥ %4 "
                            "and 3 pixels tall outlined)")
                 .arg(FormatBytes(uint64_t((y1_ - y0_) / std::max(1, area.height()))))
                 .arg(FormatBytes(uint64_t(1) << map_->cell_shift))
                 .arg(blocks_drawn_)
                 .arg(FormatBytes(map_->min_block_bytes)));

  // Legend: the colour ramp, top = the densest pixel of this view.
  const QRect ramp(area.right() + 24, area.top() + fh + 4, 16,
                   std::max(40, area.height() - 2 * fh - 8));
  QLinearGradient gradient(ramp.bottomLeft(), ramp.topLeft());
  for (int i = 0; i <= 10; ++i) gradient.setColorAt(i / 10.0, DensityColor(i / 10.0));
  p.fillRect(ramp, gradient);
  p.drawRect(ramp.adjusted(0, 0, -1, -1));
  p.drawText(QRect(area.right() + 4, area.top(), kLegendWidth - 4, fh), Qt::AlignLeft,
             QString::number(view_max_));
  p.drawText(QRect(area.right() + 4, ramp.bottom() + 2, kLegendWidth - 4, fh), Qt::AlignLeft,
             QStringLiteral("0"));
  p.save();
  p.translate(ramp.right() + 8 + fh, ramp.center().y());
  p.rotate(90);
  p.drawText(QRect(-ramp.height() / 2, -fh, ramp.height(), fh), Qt::AlignCenter,
             QStringLiteral("samples per pixel (%1)").arg(log_scale_ ? "log" : "linear"));
  p.restore();
}

void AddressMapWidget::resizeEvent(QResizeEvent*) {
  dirty_ = true;
}

void AddressMapWidget::wheelEvent(QWheelEvent* event) {
  if (!map_) return;
  const QRect area = MapRect();
  const double steps = event->angleDelta().y() / 120.0;
  const double factor = std::pow(0.8, steps);
  const QPointF pos = event->position();
  const double ay = std::clamp((pos.y() - area.top()) / area.height(), 0.0, 1.0);
  const double ax = std::clamp((pos.x() - area.left()) / area.width(), 0.0, 1.0);
  const auto mods = event->modifiers();
  if (mods & Qt::ControlModifier) {
    ZoomTime(factor, ax);
  } else if (mods & Qt::ShiftModifier) {
    ZoomTime(factor, ax);
    ZoomAddress(factor, ay);
  } else {
    ZoomAddress(factor, ay);
  }
  event->accept();
}

void AddressMapWidget::mousePressEvent(QMouseEvent* event) {
  drag_from_ = event->position().toPoint();
  drag_y0_ = y0_;
  drag_t0_ = t0_;
}

void AddressMapWidget::mouseMoveEvent(QMouseEvent* event) {
  if (!(event->buttons() & Qt::LeftButton) || !map_) return;
  const QRect area = MapRect();
  const QPoint d = event->position().toPoint() - drag_from_;
  const double h = y1_ - y0_, w = t1_ - t0_;
  y0_ = drag_y0_ - d.y() * h / area.height();
  y1_ = y0_ + h;
  t0_ = drag_t0_ - d.x() * w / area.width();
  t1_ = t0_ + w;
  Clamp();
  Changed();
}

void AddressMapWidget::mouseDoubleClickEvent(QMouseEvent*) {
  ResetView();
}

void AddressMapWidget::keyPressEvent(QKeyEvent* event) {
  const double h = y1_ - y0_, w = t1_ - t0_;
  switch (event->key()) {
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      ZoomAddress(0.5);
      return;
    case Qt::Key_Minus:
      ZoomAddress(2);
      return;
    case Qt::Key_Home:
    case Qt::Key_0:
      ResetView();
      return;
    case Qt::Key_Up:
      y0_ -= h / 4, y1_ -= h / 4;
      break;
    case Qt::Key_Down:
      y0_ += h / 4, y1_ += h / 4;
      break;
    case Qt::Key_Left:
      t0_ -= w / 4, t1_ -= w / 4;
      break;
    case Qt::Key_Right:
      t0_ += w / 4, t1_ += w / 4;
      break;
    default:
      QWidget::keyPressEvent(event);
      return;
  }
  Clamp();
  Changed();
}

uint32_t AddressMapWidget::SamplesAt(const QPoint& point) const {
  if (!map_ || !MapRect().contains(point)) return 0;
  const uint64_t unit = map_->FromAxis(AxisAt(point.y())) >> map_->cell_shift;
  const double t = TimeAt(point.x());
  const uint32_t bin = uint32_t(std::clamp(t / map_->BinNs(), 0.0, double(map_->time_bins - 1)));
  auto it = std::lower_bound(map_->cells.begin(), map_->cells.end(), std::make_pair(unit, bin),
                             [](const AddressCell& c, const std::pair<uint64_t, uint32_t>& k) {
                               return c.unit != k.first ? c.unit < k.first : c.bin < k.second;
                             });
  return it != map_->cells.end() && it->unit == unit && it->bin == bin ? it->count : 0;
}

const AddressBlock* AddressMapWidget::BlockAt(const QPoint& point) const {
  if (!map_ || !MapRect().contains(point)) return nullptr;
  const uint64_t address = map_->FromAxis(AxisAt(point.y()));
  const double t = TimeAt(point.x());
  // Blocks are sorted by start: only those starting at or below the address can hold it.
  auto end = std::upper_bound(map_->blocks.begin(), map_->blocks.end(), address,
                              [](uint64_t a, const AddressBlock& b) { return a < b.start; });
  for (auto it = map_->blocks.begin(); it != end; ++it) {
    if (address < it->start + it->size && t >= double(it->alloc_ns) && t <= double(it->free_ns))
      return &*it;
  }
  return nullptr;
}

bool AddressMapWidget::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip && map_) {
    auto* help = static_cast<QHelpEvent*>(event);
    if (!MapRect().contains(help->pos())) {
      QToolTip::hideText();
      return true;
    }
    QString text = QStringLiteral("%1 at %2\n%3 samples in this cell")
                       .arg(Hex(map_->FromAxis(AxisAt(help->pos().y()))))
                       .arg(FormatDuration(TimeAt(help->pos().x())))
                       .arg(SamplesAt(help->pos()));
    if (const AddressBlock* b = BlockAt(help->pos()))
      text += QStringLiteral("\nallocation %1, %2, live %3 – %4")
                  .arg(Hex(b->start), FormatBytes(b->size), FormatDuration(double(b->alloc_ns)),
                       FormatDuration(double(b->free_ns)));
    QToolTip::showText(help->globalPos(), text, this);
    return true;
  }
  return QWidget::event(event);
}

}  // namespace tierscope::gui
