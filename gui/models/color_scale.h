// The two colour scales of the viewer. Both are readable on dark and light backgrounds.
#pragma once

#include <QColor>

namespace tierscope::gui {

// Temperature of a site, t in [0,1] (0 cold, 1 the hottest in the profile): blue -> yellow -> red.
QColor TemperatureColor(double t);

// Sample density in a heat-map cell, t in [0,1]: dark violet -> orange -> pale yellow ("inferno").
QColor DensityColor(double t);

// Where a temperature sits among the profile's: temperatures span decades, so the scale covers
// the 4 decades below the hottest (`max`), logarithmically.
double TemperatureShare(double temperature, double max);

// Maps a value to [0,1] against `max`, linearly or on log(1+x).
double Normalize(double value, double max, bool log_scale);

}  // namespace tierscope::gui
