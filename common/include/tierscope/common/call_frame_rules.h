// How to step from a frame to its caller's at a return address, as the module's call frame
// information says (.eh_frame through .eh_frame_hdr: what libunwind reads). The recorder's and
// the placer's stack walk (call_frame_walk.h) steps with these rules, cached per return address,
// and leaves to libunwind only the stacks they cannot describe, so that its stacks are
// libunwind's at a fraction of the cost, in code built with or without frame pointers.
//
// Only the shapes that compiled code has are described: the canonical frame address (CFA) is rsp
// or rbp plus a constant, or (a function that realigns its stack: GCC's DW_OP_breg6; DW_OP_deref)
// the word at rbp plus a constant; the return address is at CFA - 8; the caller's rbp is
// untouched, or saved at CFA + a constant, or (realigned) at rbp + a constant. Anything else
// (signal frames, other expressions, registers saved in registers) is kUnknown: libunwind's to
// walk. x86-64 only (elsewhere every rule is kUnknown).
//
// Reads only the module's own mapped memory, allocates nothing, takes no lock. Why not libdw or
// libunwind for the rules: this runs inside malloc, where neither may allocate or lock, and
// libunwind keeps its own rule cache per thread behind __tls_get_addr (docs/benchmarks.md).
#pragma once

#include <cstdint>

namespace tierscope::common {

struct StepRule {
  enum Base : uint8_t {
    kUnknown = 0,  // no rule this walk can follow: libunwind's frame
    kRsp,          // CFA = rsp + cfa_offset
    kRbp,          // CFA = rbp + cfa_offset
    kRbpDeref,     // CFA = the word at rbp + cfa_offset (a realigned stack)
    kOutermost,    // the return address is undefined: the outermost frame (_start, clone)
  };
  enum SavedRbp : uint8_t {
    kRbpSame = 0,  // the caller's rbp is this frame's
    kRbpAtCfa,     // saved at CFA + rbp_offset
    kRbpAtRbp,     // saved at this frame's rbp + rbp_offset
  };
  Base base = kUnknown;
  int32_t cfa_offset = 0;
  SavedRbp saved_rbp = kRbpSame;
  int16_t rbp_offset = 0;

  // One word, for a lock-free cache (call_frame_walk.h); never 0.
  uint64_t Pack() const {
    return uint64_t{base} + 1 + (uint64_t{saved_rbp} << 8) +
           (uint64_t{static_cast<uint16_t>(rbp_offset)} << 16) +
           (uint64_t{static_cast<uint32_t>(cfa_offset)} << 32);
  }
  static StepRule Unpack(uint64_t word) {
    StepRule r;
    r.base = static_cast<Base>((word & 0xff) - 1);
    r.saved_rbp = static_cast<SavedRbp>((word >> 8) & 0xff);
    r.rbp_offset = static_cast<int16_t>(word >> 16);
    r.cfa_offset = static_cast<int32_t>(word >> 32);
    return r;
  }
  bool operator==(const StepRule& o) const {
    return base == o.base && cfa_offset == o.cfa_offset && saved_rbp == o.saved_rbp &&
           rbp_offset == o.rbp_offset;
  }
};

// `eh_frame_hdr`: the address of the module's PT_GNU_EH_FRAME segment (0: none).
// `return_address`: an address in the module a call returns to (the rule is that of the call
// instruction before it). kUnknown when the module has no rule for it, or one this walk does not
// follow (also an rbp offset beyond 16 bits, which Pack could not keep).
StepRule StepRuleAt(uintptr_t eh_frame_hdr, uintptr_t return_address);

// The rule at a return address of any module loaded in this process, its tables found by the C
// library's _dl_find_object (lock-free, allocates nothing). kUnknown outside every module.
StepRule StepRuleOf(uintptr_t return_address);

// The rule of a call in code that keeps the frame pointer: the frame-pointer walk's own step.
constexpr StepRule kFramePointerStep{StepRule::kRbp, 16, StepRule::kRbpAtCfa, -16};

}  // namespace tierscope::common
