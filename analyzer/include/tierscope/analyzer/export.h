// Exports of a profile for other tools.
#pragma once

#include "pprof.pb.h"
#include "profile.pb.h"

namespace tierscope::analyzer {

// One pprof sample per site with values alloc bytes, peak live bytes, load samples, store
// samples; locations carry the symbolized (inlined) lines when the profile has them.
perftools::profiles::Profile ToPprof(const profile::ProfileChunk& profile);

}  // namespace tierscope::analyzer
