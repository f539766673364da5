#include "app/recent_files.h"

#include <QFileInfo>
#include <QSettings>

namespace tierscope::gui {

namespace {
const char kKey[] = "recentFiles";
}

QStringList RecentFiles::Load() {
  return QSettings().value(kKey).toStringList();
}

QStringList RecentFiles::Add(const QString& path) {
  QStringList files = Load();
  const QString absolute = QFileInfo(path).absoluteFilePath();
  files.removeAll(absolute);
  files.prepend(absolute);
  while (files.size() > kMax) files.removeLast();
  QSettings().setValue(kKey, files);
  return files;
}

}  // namespace tierscope::gui
