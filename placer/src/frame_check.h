// Whether the frame-pointer walk is exact at a return address: the module's call frame
// information (.eh_frame through .eh_frame_hdr, what libunwind reads) says that at the call, the
// canonical frame address is rbp + 16, the caller's rbp is saved at CFA - 16 and the return
// address at CFA - 8. Then stepping to the caller through rbp finds the frame libunwind finds.
// Code built without frame pointers (most distribution binaries) does not pass; code built with
// them passes at every call site. x86-64 only (elsewhere: never).
//
// Reads only the module's own mapped memory, allocates nothing, takes no lock.
#pragma once

#include <cstdint>

namespace tierscope::placer {

// `eh_frame_hdr`: the address of the module's PT_GNU_EH_FRAME segment (0: none). `pc`: a return
// address in the module (the state is that of the call instruction before it).
bool KeepsFramePointer(uintptr_t eh_frame_hdr, uintptr_t pc);

}  // namespace tierscope::placer
