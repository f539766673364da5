// Test helper: turn the sites a placer run learned (TIERSCOPE_PLACER_SITES) into a profile with
// a plan, choosing each site's tier by the function its innermost frame is in (from `nm`).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "profile.pb.h"

namespace tierscope::testing {

struct FunctionRange {
  uint64_t start = 0, end = 0;
};

// Function symbols of an ELF file: name -> [start, end) (nm -S --defined-only).
std::map<std::string, FunctionRange> FunctionRanges(const std::string& binary);

// The function of `binary` that holds `offset`, or "".
std::string FunctionAt(const std::map<std::string, FunctionRange>& functions, uint64_t offset);

// Sites of `learned` whose innermost frame is in `binary`'s function F get tier choose(F) (skip
// when it returns ""). The result carries `site_depth` = the learned depth.
profile::ProfileChunk MakePlan(const std::string& learned_path, const std::string& binary,
                               const std::function<std::string(const std::string&)>& choose);

}  // namespace tierscope::testing
