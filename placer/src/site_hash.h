// The placer's names for the shared site-key hashes (common/.../site_key.h): the run-time cache
// hashes raw return addresses, the plan's key table (module identity, offset) pairs.
#pragma once

#include "tierscope/common/site_key.h"

namespace tierscope::placer {

using common::BaseName;
using common::HashBytes;
using common::HashFrames;
using common::HashKey;
using common::MixHash;
using common::ModuleOffset;

}  // namespace tierscope::placer
