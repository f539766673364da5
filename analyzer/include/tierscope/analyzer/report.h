// Tables of a profile's sites for people (text) and tools (JSON, CSV).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "profile.pb.h"

namespace tierscope::analyzer {

struct ReportRow {
  const profile::Site* site;
  std::string tier;  // from the plan; empty without one
};

// Site.temperature is samples (times the sampler's accesses per sample) per byte-second of live
// memory. A site with one sample over a few bytes can top that ranking by chance; this is the
// one-sided 95% lower bound of its temperature, from a Poisson bound on its sample count
// (Wilson-Hilferty), so few-sample sites rank by what they surely are.
double TemperatureLow(const profile::Site& site);
// Temperature per MiB and second: the unit reports show.
inline double PerMiB(double temperature) {
  return temperature * 1048576.0;
}

// The `top` hottest sites by TemperatureLow, then temperature, then peak bytes; 0: all.
std::vector<ReportRow> TopSites(const profile::ProfileChunk& profile, size_t top);
// "function (file:line)", or "module+0xOFFSET" when unsymbolized.
std::string FrameName(const profile::Location& loc);

// "0x1f"; "1.5 MiB"; a CSV field quoted when it must be.
std::string FormatHex(uint64_t v);
std::string FormatBytes(double bytes);
std::string CsvEscape(const std::string& field);

void WriteTextReport(const profile::ProfileChunk& profile, size_t top, std::ostream& out);
void WriteJsonReport(const profile::ProfileChunk& profile, size_t top, std::ostream& out);
void WriteCsvReport(const profile::ProfileChunk& profile, size_t top, std::ostream& out);

}  // namespace tierscope::analyzer
