#include "widgets/lifetime_chart.h"

#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QValueAxis>

#include "data/site_text.h"

namespace tierscope::gui {

LifetimeChart::LifetimeChart(QWidget* parent) : QChartView(parent) {
  setRenderHint(QPainter::Antialiasing);
  setMinimumWidth(260);
  chart()->legend()->hide();
  chart()->setTitle(QStringLiteral("Lifetimes"));
  ApplyPalette();
}

void LifetimeChart::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) ApplyPalette();
  QChartView::changeEvent(event);
}

void LifetimeChart::ApplyPalette() {
  // Follow the widget palette (dark or light) rather than a fixed Qt Charts theme.
  chart()->setBackgroundBrush(palette().color(QPalette::Base));
  chart()->setTitleBrush(palette().color(QPalette::Text));
  for (QAbstractAxis* axis : chart()->axes()) {
    axis->setLabelsBrush(palette().color(QPalette::Text));
    axis->setTitleBrush(palette().color(QPalette::Text));
  }
}

void LifetimeChart::SetSite(const profile::Site* site) {
  chart()->removeAllSeries();
  for (QAbstractAxis* axis : chart()->axes()) {
    chart()->removeAxis(axis);
    delete axis;
  }
  counts_.clear();
  first_bucket_ = -1;
  int last = -1;
  if (site) {
    for (int i = 0; i < site->lifetime_log2_ns_size(); ++i) {
      if (site->lifetime_log2_ns(i) == 0) continue;
      if (first_bucket_ < 0) first_bucket_ = i;
      last = i;
    }
  }
  if (first_bucket_ < 0) {
    chart()->setTitle(site ? QStringLiteral("Lifetimes: nothing freed")
                           : QStringLiteral("Lifetimes"));
    return;
  }
  chart()->setTitle(QStringLiteral("Lifetimes (allocations per power-of-two bucket)"));
  auto* set = new QBarSet(QStringLiteral("allocations"));
  QStringList categories;
  for (int i = first_bucket_; i <= last; ++i) {
    counts_ << qreal(site->lifetime_log2_ns(i));
    *set << counts_.back();
    categories << FormatDuration(std::ldexp(1.0, i));
  }
  set->setColor(palette().color(QPalette::Highlight));
  auto* series = new QBarSeries;
  series->append(set);
  chart()->addSeries(series);
  auto* x = new QBarCategoryAxis;
  x->append(categories);
  x->setLabelsAngle(-60);
  auto* y = new QValueAxis;
  y->setLabelFormat(QStringLiteral("%.0f"));
  chart()->addAxis(x, Qt::AlignBottom);
  chart()->addAxis(y, Qt::AlignLeft);
  series->attachAxis(x);
  series->attachAxis(y);
  ApplyPalette();
}

}  // namespace tierscope::gui
