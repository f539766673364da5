// Callers for placer_unit_test's call frame tests: this file is built twice, with and without
// frame pointers (tests/placer/CMakeLists.txt), and each build defines its own functions.
#include <alloca.h>
#include <libunwind.h>

#include <cstdint>

#include "tierscope/common/call_frame_walk.h"

namespace tierscope::placer::testing {

using common::StartAtFrame;
using common::WalkStart;

uintptr_t CaptureReturnAddress();
extern volatile uintptr_t g_sink;
using WalkVisitor = void (*)(const WalkStart& start, void* context);

#if defined(TS_WITH_FRAME_POINTER)
// Returns the return address of its call.
__attribute__((noinline)) uintptr_t CallWithFramePointer() {
#else
__attribute__((noinline)) uintptr_t CallWithoutFramePointer() {
#endif
  const uintptr_t r = CaptureReturnAddress();
  g_sink = r;  // not a tail call: the return address stays inside this function
  return r;
}

#if defined(TS_WITH_FRAME_POINTER)
// What an entry point of the placer sees (its own frame, built with frame pointers), given to
// `walk` while the frames above are still there, and libunwind's frames from the same place:
// unwound[0] is this function's, unwound[1] its caller's.
__attribute__((noinline)) int CaptureWalks(WalkVisitor walk, void* context, void** unwound,
                                           int max) {
  walk(StartAtFrame(__builtin_return_address(0), __builtin_frame_address(0)), context);
  const int n = unw_backtrace(unwound, max);
  g_sink = static_cast<uintptr_t>(n);
  return n;
}
#else
int CaptureWalks(WalkVisitor walk, void* context, void** unwound, int max);
int RecurseWithoutFramePointer(int levels, WalkVisitor walk, void* context, void** unwound,
                               int max);

// A function that realigns its stack (an over-aligned local) and also allocates on it: GCC then
// keeps the incoming stack pointer in a register (DRAP), and its CFA is a word read through rbp
// (DW_OP_breg6; DW_OP_deref), its caller's rbp saved at rbp.
__attribute__((noinline)) int RecurseRealigned(int levels, WalkVisitor walk, void* context,
                                               void** unwound, int max) {
  alignas(64) volatile char aligned[64];
  volatile char* scratch = static_cast<volatile char*>(alloca(static_cast<size_t>(levels) * 8));
  scratch[0] = static_cast<char>(levels);
  aligned[0] = scratch[0];
  const int n = RecurseWithoutFramePointer(levels - 1, walk, context, unwound, max);
  g_sink = g_sink + static_cast<uintptr_t>(n) + aligned[0];  // not a tail call
  return n;
}

// `levels` frames of code without frame pointers above CaptureWalks; every third keeps a
// variable-sized array, so that the compiler makes rbp its frame base there (a CFA on rbp, in a
// stack of CFAs on rsp), and every fourth realigns its stack.
__attribute__((noinline)) int RecurseWithoutFramePointer(int levels, WalkVisitor walk,
                                                         void* context, void** unwound, int max) {
  if (levels == 0) return CaptureWalks(walk, context, unwound, max);
  if (levels % 4 == 2) return RecurseRealigned(levels, walk, context, unwound, max);
  volatile char* scratch = nullptr;
  if (levels % 3 == 0) {
    scratch = static_cast<volatile char*>(alloca(static_cast<size_t>(levels) * 24));
    scratch[0] = static_cast<char>(levels);
  }
  const int n = RecurseWithoutFramePointer(levels - 1, walk, context, unwound, max);
  g_sink = g_sink + static_cast<uintptr_t>(n) + (scratch ? scratch[0] : 0);  // not a tail call
  return n;
}
#endif

}  // namespace tierscope::placer::testing
