// Two callers of the same function for placer_unit_test's FrameCheck tests: this file is built
// twice, with and without frame pointers (tests/placer/CMakeLists.txt), and each build defines
// its own caller. Each returns the return address of its call.
#include <cstdint>

namespace tierscope::placer::testing {

uintptr_t CaptureReturnAddress();
extern volatile uintptr_t g_sink;

#if defined(TS_WITH_FRAME_POINTER)
__attribute__((noinline)) uintptr_t CallWithFramePointer() {
#else
__attribute__((noinline)) uintptr_t CallWithoutFramePointer() {
#endif
  const uintptr_t r = CaptureReturnAddress();
  g_sink = r;  // not a tail call: the return address stays inside this function
  return r;
}

}  // namespace tierscope::placer::testing
