// The recently opened files, most recent first, kept in QSettings across runs.
#pragma once

#include <QStringList>

namespace tierscope::gui {

class RecentFiles {
 public:
  static constexpr int kMax = 8;
  static QStringList Load();
  // Moves `path` (made absolute) to the front and saves; returns the new list.
  static QStringList Add(const QString& path);
};

}  // namespace tierscope::gui
