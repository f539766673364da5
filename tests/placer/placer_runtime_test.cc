// The placer's run-time paths in one thread: the frame-pointer walk stays within the thread's
// stack whatever the frames say.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "allocation_path.h"

namespace tierscope::placer {
namespace {

// Three frames of our own, kept (-fno-omit-frame-pointer -fno-optimize-sibling-calls).
__attribute__((noinline)) int WalkHere(uint64_t* frames) {
  return CollectFramePointers(__builtin_return_address(0), __builtin_frame_address(0), frames);
}
__attribute__((noinline)) int CallerOne(uint64_t* frames) {
  const int n = WalkHere(frames);
  asm volatile("" ::: "memory");
  return n;
}
__attribute__((noinline)) int CallerTwo(uint64_t* frames) {
  const int n = CallerOne(frames);
  asm volatile("" ::: "memory");
  return n;
}

TEST(FramePointerWalk, WalksTheThreadsOwnFrames) {
  g_state.depth = 4;
  uint64_t frames[kMaxDepth] = {};
  ASSERT_EQ(CallerTwo(frames), 4);
  for (int i = 0; i < 4; ++i) EXPECT_NE(frames[i], 0u) << i;
}

// A fiber's stack (or a signal handler's alternate stack): its frames are not on the thread's
// stack, and here the saved frame pointer leads to an unmapped page. Following it would fault.
TEST(FramePointerWalk, AFrameOffTheThreadsStackEndsTheWalkWithoutReadingIt) {
  g_state.depth = 4;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  char* region = static_cast<char*>(
      mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  ASSERT_EQ(munmap(region + page, page), 0);
  auto* frame = reinterpret_cast<uintptr_t*>(region + page - 64);
  frame[0] = reinterpret_cast<uintptr_t>(region + page + 64);  // the caller's frame: unmapped
  frame[1] = 0x1234;
  uint64_t frames[kMaxDepth] = {};
  EXPECT_EQ(CollectFramePointers(reinterpret_cast<void*>(0x42), frame, frames), 1);
  EXPECT_EQ(frames[0], 0x42u);
  // A frame pointer below the stack that leads into it is not followed either.
  frame[0] = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  EXPECT_EQ(CollectFramePointers(reinterpret_cast<void*>(0x42), frame, frames), 1);
  munmap(region, page);
  munmap(region + 2 * page, page);
}

}  // namespace
}  // namespace tierscope::placer
