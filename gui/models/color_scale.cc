#include "models/color_scale.h"

#include <algorithm>
#include <cmath>

namespace tierscope::gui {

namespace {

struct Stop {
  double at;
  int r, g, b;
};

template <size_t N>
QColor Interpolate(const Stop (&stops)[N], double t) {
  t = std::clamp(t, 0.0, 1.0);
  for (size_t i = 1; i < N; ++i) {
    if (t <= stops[i].at) {
      const Stop& a = stops[i - 1];
      const Stop& b = stops[i];
      double f = (t - a.at) / (b.at - a.at);
      return QColor(int(a.r + f * (b.r - a.r)), int(a.g + f * (b.g - a.g)),
                    int(a.b + f * (b.b - a.b)));
    }
  }
  return QColor(stops[N - 1].r, stops[N - 1].g, stops[N - 1].b);
}

}  // namespace

QColor TemperatureColor(double t) {
  static const Stop kStops[] = {
      {0.0, 70, 110, 200}, {0.4, 120, 190, 200}, {0.7, 240, 200, 80}, {1.0, 220, 50, 40}};
  return Interpolate(kStops, t);
}

QColor DensityColor(double t) {
  static const Stop kStops[] = {{0.0, 0, 0, 4},
                                {0.25, 87, 16, 110},
                                {0.5, 188, 55, 84},
                                {0.75, 249, 142, 9},
                                {1.0, 252, 255, 164}};
  return Interpolate(kStops, t);
}

double TemperatureShare(double temperature, double max) {
  if (max <= 0 || temperature <= 0) return 0;
  return std::clamp(1.0 + std::log10(temperature / max) / 4.0, 0.0, 1.0);
}

double Normalize(double value, double max, bool log_scale) {
  if (max <= 0 || value <= 0) return 0;
  if (log_scale) return std::log1p(value) / std::log1p(max);
  return value / max;
}

}  // namespace tierscope::gui
