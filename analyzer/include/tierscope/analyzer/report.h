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

// The `top` hottest sites (temperature, then peak bytes); 0: all.
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
