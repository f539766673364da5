// The recorder's names for memory straight from the kernel (common/.../kernel_pages.h).
#pragma once

#include "tierscope/common/kernel_pages.h"

namespace tierscope::recorder {

using common::RawMap;
using common::RawMapHugePages;
using common::RawMapTable;
using common::RawUnmap;

}  // namespace tierscope::recorder
