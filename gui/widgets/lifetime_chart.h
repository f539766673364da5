// The selected site's lifetime distribution (Site.lifetime_log2_ns) as a Qt Charts bar chart.
#pragma once

#include <QtCharts/QChartView>

#include "profile.pb.h"

namespace tierscope::gui {

class LifetimeChart : public QChartView {
  Q_OBJECT
 public:
  explicit LifetimeChart(QWidget* parent = nullptr);
  // Shows the buckets from the first to the last non-empty one; null or none freed: a note.
  void SetSite(const profile::Site* site);
  // What the chart shows, for tests: one count per bucket shown, and the first bucket's log2.
  const QList<qreal>& counts() const { return counts_; }
  int first_bucket() const { return first_bucket_; }

 protected:
  void changeEvent(QEvent* event) override;

 private:
  void ApplyPalette();

  QList<qreal> counts_;
  int first_bucket_ = -1;
};

}  // namespace tierscope::gui
