// Sites x time heat map painted from HeatMapData: one row per site (hottest on top), one column
// per histogram bin, colour = samples in the bin, with a legend and a log/linear scale.
#pragma once

#include <QImage>
#include <QWidget>
#include <memory>

#include "data/heat_map.h"

namespace tierscope::gui {

class HeatMapWidget : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kMaxRows = 500;

  explicit HeatMapWidget(QWidget* parent = nullptr);
  void SetData(std::shared_ptr<const ProfileData> data);
  void SetLogScale(bool log_scale);
  bool log_scale() const { return log_scale_; }
  const HeatMapData& map() const { return map_; }
  // The (row, bin) under a point of the widget, or false outside the map.
  bool CellAt(const QPoint& point, int* row, int* bin) const;

  QSize sizeHint() const override { return {800, 500}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  bool event(QEvent* event) override;

 private:
  QRect MapRect() const;
  void RebuildImage();

  std::shared_ptr<const ProfileData> data_;
  HeatMapData map_;
  QImage image_;  // one pixel per cell, scaled when painted
  QStringList labels_;
  bool log_scale_ = true;
};

}  // namespace tierscope::gui
