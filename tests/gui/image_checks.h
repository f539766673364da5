// What the widget tests ask of a rendered image: that it shows something, not one flat fill.
#pragma once

#include <QImage>
#include <set>

namespace tierscope::gui {

// Colours on every other pixel of every other row: a blank or flat widget gives 1 or 2.
inline int DistinctColours(const QImage& image) {
  std::set<QRgb> colours;
  for (int y = 0; y < image.height(); y += 2)
    for (int x = 0; x < image.width(); x += 2) colours.insert(image.pixel(x, y));
  return int(colours.size());
}

}  // namespace tierscope::gui
