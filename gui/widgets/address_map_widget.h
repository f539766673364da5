// Address space x time for an open trace, painted from AddressMapData: time left to right,
// addresses top (low) to bottom (high) on the compacted axis (dotted lines mark cut-out gaps),
// sample density as colour and allocations outlined as rectangles (address range x lifetime).
// Wheel zooms the address axis around the pointer down to the page, Ctrl+wheel the time axis,
// Shift+wheel both; drag pans; double-click, Home or 0 resets; +/- and arrow keys too.
// The picture is rendered into an image once per view change, never per paint.
#pragma once

#include <QImage>
#include <QWidget>
#include <memory>

#include "data/address_map.h"
#include "data/profile_source.h"

namespace tierscope::gui {

class AddressMapWidget : public QWidget {
  Q_OBJECT
 public:
  static constexpr double kMinAxisBytes = 16384;  // four pages fill the height at most zoom
  static constexpr double kMinTimeBins = 4;

  explicit AddressMapWidget(QWidget* parent = nullptr);
  void SetData(std::shared_ptr<const ProfileData> data);
  void SetLogScale(bool log_scale);
  bool log_scale() const { return log_scale_; }

  const AddressMapData* map() const { return map_.get(); }
  // The visible window: axis bytes [y0, y1) and time [t0, t1) in ns from the run's start.
  double view_y0() const { return y0_; }
  double view_y1() const { return y1_; }
  double view_t0() const { return t0_; }
  double view_t1() const { return t1_; }
  void ResetView();
  // factor < 1 zooms in, keeping the axis position / time under `anchor` (0..1 of the map) still.
  void ZoomAddress(double factor, double anchor = 0.5);
  void ZoomTime(double factor, double anchor = 0.5);
  // Shows the addresses [start, end) over the whole time range.
  void ShowAddresses(uint64_t start, uint64_t end);

  QRect MapRect() const;
  // Samples counted in the cell under a point (0 outside cells); the block there, if any.
  uint32_t SamplesAt(const QPoint& point) const;
  const AddressBlock* BlockAt(const QPoint& point) const;
  int blocks_drawn() const { return blocks_drawn_; }

  QSize sizeHint() const override { return {800, 500}; }

 protected:
  void paintEvent(QPaintEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void Render();
  void Clamp();
  void Changed();
  double AxisAt(int y) const;
  double TimeAt(int x) const;

  std::shared_ptr<const ProfileData> data_;
  std::shared_ptr<const AddressMapData> map_;
  bool log_scale_ = true;
  double y0_ = 0, y1_ = 1, t0_ = 0, t1_ = 1;
  QImage image_;  // the map area, rendered for the current view
  bool dirty_ = true;
  uint32_t view_max_ = 0;
  int blocks_drawn_ = 0;
  QPoint drag_from_;
  double drag_y0_ = 0, drag_t0_ = 0;
};

}  // namespace tierscope::gui
