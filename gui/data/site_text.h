// How a site, a frame and a quantity read in the viewer: one place, so every view agrees.
#pragma once

#include <QString>
#include <QStringList>
#include <cstdint>
#include <vector>

#include "profile.pb.h"

namespace tierscope::gui {

// One frame of a stack as the call tree sees it: each inlined function is a frame of its own.
struct Frame {
  QString function;  // demangled, or "module+0xOFFSET" when unsymbolized
  QString file;      // "" when unknown
  uint32_t line = 0;
  QString module;  // base name
};

// The frames of a site's stack, innermost (the allocating function) first.
std::vector<Frame> SiteFrames(const profile::Site& site);

// The allocating function: the innermost frame (its raw address when unsymbolized).
QString SiteFunction(const profile::Site& site);
QString SiteModule(const profile::Site& site);  // base name of the innermost module
QString SiteSource(const profile::Site& site);  // "file:line" of the innermost frame, or ""

// Median lifetime from the log2 buckets, in ns (bucket midpoint); -1 when nothing was freed.
double MedianLifetimeNs(const profile::Site& site);
uint64_t SiteSamples(const profile::Site& site);  // loads + stores + other

// The whole symbolized stack, one line per frame, inlined frames marked.
QStringList StackLines(const profile::Site& site);

QString FormatBytes(double bytes);    // "1.5 MiB"
QString FormatDuration(double ns);    // "3.2 ms"
QString FormatCount(double count);    // "12.3k"
QString FormatPercent(double share);  // share in [0,1] -> "42.0 %"

}  // namespace tierscope::gui
