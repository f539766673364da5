// Snapshots of the loaded modules (dl_iterate_phdr) with their GNU build-ids (PT_NOTE), so the
// analyzer can map every return address to module + offset offline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "trace.pb.h"

namespace tierscope::recorder {

// Every module loaded now. Allocates: call from an internal thread or with hooks off.
trace::ModuleMap SnapshotModules(uint64_t time_ns);

// The build-id in a PT_NOTE segment's bytes (NT_GNU_BUILD_ID), empty when there is none.
std::string BuildIdFromNotes(std::string_view notes);

}  // namespace tierscope::recorder
