#include "data/site_text.h"

#include <QFileInfo>
#include <cmath>

namespace tierscope::gui {

namespace {

QString BaseName(const std::string& path) {
  return QFileInfo(QString::fromStdString(path)).fileName();
}

QString RawAddress(const profile::Location& loc) {
  return QStringLiteral("%1+0x%2").arg(BaseName(loc.module())).arg(loc.offset(), 0, 16);
}

}  // namespace

std::vector<Frame> SiteFrames(const profile::Site& site) {
  std::vector<Frame> frames;
  frames.reserve(site.stack_size());
  for (const profile::Location& loc : site.stack()) {
    QString module = BaseName(loc.module());
    if (loc.lines().empty()) {
      frames.push_back({RawAddress(loc), {}, 0, module});
      continue;
    }
    for (const profile::SourceLine& line : loc.lines())
      frames.push_back({QString::fromStdString(line.function()),
                        QString::fromStdString(line.file()), line.line(), module});
  }
  return frames;
}

QString SiteFunction(const profile::Site& site) {
  // The innermost frame is where the allocation happened; unsymbolized, its raw address says so.
  if (site.stack().empty()) return QStringLiteral("(no stack)");
  const profile::Location& loc = site.stack(0);
  if (loc.lines().empty() || loc.lines(0).function().empty()) return RawAddress(loc);
  return QString::fromStdString(loc.lines(0).function());
}

QString SiteModule(const profile::Site& site) {
  return site.stack().empty() ? QString() : BaseName(site.stack(0).module());
}

QString SiteSource(const profile::Site& site) {
  if (site.stack().empty() || site.stack(0).lines().empty()) return {};
  const profile::SourceLine& line = site.stack(0).lines(0);
  if (line.file().empty()) return {};
  return QStringLiteral("%1:%2").arg(QString::fromStdString(line.file())).arg(line.line());
}

double MedianLifetimeNs(const profile::Site& site) {
  uint64_t total = 0;
  for (uint64_t n : site.lifetime_log2_ns()) total += n;
  if (total == 0) return -1;
  uint64_t seen = 0;
  for (int i = 0; i < site.lifetime_log2_ns_size(); ++i) {
    seen += site.lifetime_log2_ns(i);
    // Bucket i holds [2^i, 2^(i+1)): its geometric midpoint stands for it.
    if (2 * seen >= total) return std::ldexp(1.0, i) * std::sqrt(2.0);
  }
  return -1;
}

uint64_t SiteSamples(const profile::Site& site) {
  return site.load_samples() + site.store_samples() + site.other_samples();
}

QStringList StackLines(const profile::Site& site) {
  QStringList out;
  int index = 0;
  for (const profile::Location& loc : site.stack()) {
    QString where = RawAddress(loc);
    if (loc.lines().empty()) {
      out << QStringLiteral("#%1  %2  (unsymbolized)").arg(index).arg(where);
    }
    for (int i = 0; i < loc.lines_size(); ++i) {
      const profile::SourceLine& line = loc.lines(i);
      QString source =
          line.file().empty()
              ? QStringLiteral("?")
              : QStringLiteral("%1:%2").arg(QString::fromStdString(line.file())).arg(line.line());
      // The outermost line of a location is the real call; the others were inlined into it.
      bool inlined = i + 1 < loc.lines_size();
      out << QStringLiteral("#%1  %2%3  %4  [%5]")
                 .arg(index)
                 .arg(inlined ? QStringLiteral("(inlined) ") : QString())
                 .arg(QString::fromStdString(line.function()), source, where);
    }
    ++index;
  }
  return out;
}

QString FormatBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (std::fabs(bytes) >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? QStringLiteral("%1 B").arg(bytes, 0, 'f', 0)
                   : QStringLiteral("%1 %2").arg(bytes, 0, 'f', 1).arg(kUnits[unit]);
}

QString FormatDuration(double ns) {
  if (ns < 0) return QStringLiteral("-");
  if (ns < 1e3) return QStringLiteral("%1 ns").arg(ns, 0, 'f', 0);
  if (ns < 1e6) return QStringLiteral("%1 µs").arg(ns / 1e3, 0, 'f', 1);
  if (ns < 1e9) return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', 1);
  return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 2);
}

QString FormatCount(double count) {
  if (count < 1e4) return QString::number(count, 'f', 0);
  if (count < 1e6) return QStringLiteral("%1k").arg(count / 1e3, 0, 'f', 1);
  if (count < 1e9) return QStringLiteral("%1M").arg(count / 1e6, 0, 'f', 1);
  return QStringLiteral("%1G").arg(count / 1e9, 0, 'f', 1);
}

QString FormatPercent(double share) {
  return QStringLiteral("%1 %").arg(share * 100, 0, 'f', 1);
}

}  // namespace tierscope::gui
