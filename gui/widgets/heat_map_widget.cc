#include "widgets/heat_map_widget.h"

#include <QHelpEvent>
#include <QLinearGradient>
#include <QPainter>
#include <QToolTip>

#include "data/site_text.h"
#include "models/color_scale.h"

namespace tierscope::gui {

namespace {
constexpr int kLabelWidth = 220;
constexpr int kLegendHeight = 46;
constexpr int kMargin = 8;
}  // namespace

HeatMapWidget::HeatMapWidget(QWidget* parent) : QWidget(parent) {
  setMinimumSize(300, 200);
  setFocusPolicy(Qt::StrongFocus);
}

void HeatMapWidget::SetData(std::shared_ptr<const ProfileData> data) {
  data_ = std::move(data);
  map_ = data_ ? BuildHeatMap(*data_, kMaxRows) : HeatMapData{};
  labels_.clear();
  for (int site : map_.rows) labels_ << SiteFunction(data_->profile.sites(site));
  RebuildImage();
}

void HeatMapWidget::SetLogScale(bool log_scale) {
  log_scale_ = log_scale;
  RebuildImage();
}

void HeatMapWidget::RebuildImage() {
  const int rows = int(map_.rows.size());
  if (rows == 0 || map_.bins == 0) {
    image_ = QImage();
  } else {
    image_ = QImage(map_.bins, rows, QImage::Format_RGB32);
    for (int r = 0; r < rows; ++r) {
      auto* line = reinterpret_cast<QRgb*>(image_.scanLine(r));
      for (int b = 0; b < map_.bins; ++b)
        line[b] = DensityColor(Normalize(map_.At(r, b), map_.max_cell, log_scale_)).rgb();
    }
  }
  update();
}

QRect HeatMapWidget::MapRect() const {
  return QRect(kLabelWidth, kMargin, std::max(1, width() - kLabelWidth - kMargin),
               std::max(1, height() - kLegendHeight - 2 * kMargin));
}

bool HeatMapWidget::CellAt(const QPoint& point, int* row, int* bin) const {
  const QRect area = MapRect();
  if (image_.isNull() || !area.contains(point)) return false;
  *row = std::min(int(map_.rows.size()) - 1,
                  int(double(point.y() - area.top()) * map_.rows.size() / area.height()));
  *bin = std::min(map_.bins - 1, int(double(point.x() - area.left()) * map_.bins / area.width()));
  return true;
}

void HeatMapWidget::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base));
  p.setPen(palette().color(QPalette::Text));
  if (image_.isNull()) {
    p.drawText(rect(), Qt::AlignCenter,
               data_ ? QStringLiteral("No site has a time histogram in this profile")
                     : QStringLiteral("Open a profile (File → Open)"));
    return;
  }
  const QRect area = MapRect();
  p.drawImage(area, image_);  // nearest-neighbour: each cell stays a crisp block

  // Row labels when rows are tall enough to read.
  const double row_height = double(area.height()) / map_.rows.size();
  if (row_height >= p.fontMetrics().height() * 0.8) {
    for (int r = 0; r < labels_.size(); ++r) {
      QRect label(kMargin, area.top() + int(r * row_height), kLabelWidth - 2 * kMargin,
                  int(row_height));
      p.drawText(label, Qt::AlignVCenter | Qt::AlignRight,
                 p.fontMetrics().elidedText(labels_[r], Qt::ElideMiddle, label.width()));
    }
  } else {
    p.drawText(QRect(kMargin, area.top(), kLabelWidth - 2 * kMargin, area.height()),
               Qt::AlignCenter | Qt::TextWordWrap,
               QStringLiteral("%1 hottest of %2 sites,\nhottest on top")
                   .arg(map_.rows.size())
                   .arg(map_.sites_with_samples));
  }

  // Legend: the colour ramp with its end values, and the time axis.
  const int y = area.bottom() + kMargin;
  QRect ramp(area.left(), y + 18, std::min(300, area.width()), 12);
  QLinearGradient gradient(ramp.topLeft(), ramp.topRight());
  for (int i = 0; i <= 10; ++i) gradient.setColorAt(i / 10.0, DensityColor(i / 10.0));
  p.fillRect(ramp, gradient);
  p.drawRect(ramp.adjusted(0, 0, -1, -1));
  p.drawText(QRect(ramp.left(), y, ramp.width(), 16), Qt::AlignLeft | Qt::AlignVCenter,
             QStringLiteral("samples per bin (%1): 0").arg(log_scale_ ? "log" : "linear"));
  p.drawText(QRect(ramp.left(), y, ramp.width(), 16), Qt::AlignRight | Qt::AlignVCenter,
             QString::number(map_.max_cell));
  p.drawText(
      QRect(ramp.right() + 20, y, area.right() - ramp.right() - 20, 32),
      Qt::AlignRight | Qt::AlignVCenter,
      QStringLiteral("time → %1 bins of %2 (total %3)")
          .arg(map_.bins)
          .arg(FormatDuration(map_.bin_ns), FormatDuration(double(map_.bin_ns) * map_.bins)));
}

bool HeatMapWidget::event(QEvent* event) {
  if (event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    int row, bin;
    if (!CellAt(help->pos(), &row, &bin)) {
      QToolTip::hideText();
      return true;
    }
    const profile::Site& site = data_->profile.sites(map_.rows[row]);
    QToolTip::showText(help->globalPos(),
                       QStringLiteral("%1\nsite %2, temperature %3\n%4 – %5: %6 samples")
                           .arg(labels_[row])
                           .arg(site.id())
                           .arg(site.temperature(), 0, 'g', 4)
                           .arg(FormatDuration(double(map_.bin_ns) * bin),
                                FormatDuration(double(map_.bin_ns) * (bin + 1)))
                           .arg(map_.At(row, bin)),
                       this);
    return true;
  }
  return QWidget::event(event);
}

}  // namespace tierscope::gui
