// pprof profile.proto files: a gzip'd serialized perftools.profiles.Profile.
#pragma once

#include <string>

#include "pprof.pb.h"
#include "tierscope/formats/container.h"

namespace tierscope::formats {

// Throws FormatException (kIo) when the file cannot be written.
void WritePprof(const std::string& path, const perftools::profiles::Profile& profile);
// Throws FormatException naming the file and what is wrong with it.
perftools::profiles::Profile ReadPprof(const std::string& path);

}  // namespace tierscope::formats
