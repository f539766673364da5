// Realistic profiles for the viewer's tests, written with formats::WriteProfile (the one writer).
#pragma once

#include <string>

#include "profile.pb.h"

namespace tierscope::gui::testing {

// Shaped like the kvcache example: a hot index, warm values, cold log and archive, plus helpers
// (std::vector growth, strings, one unsymbolized frame); two tiers and a greedy plan.
profile::ProfileChunk MakeKvcacheProfile();

// `sites` sites over a pool of functions and modules, deterministic for a given seed; every
// site has a 64-bin histogram. For responsiveness with 100k sites.
profile::ProfileChunk MakeManySitesProfile(int sites, unsigned seed = 7);

}  // namespace tierscope::gui::testing
