// The placer's own memory: anonymous mappings, never the program's heap, never interleaved with
// user data, never routed by the placer's own mmap hook (common/.../kernel_pages.h).
#pragma once

#include "tierscope/common/kernel_pages.h"

namespace tierscope::placer {

using common::MapArray;
using common::UnmapArray;

}  // namespace tierscope::placer
