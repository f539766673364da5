// The recorder's own code, for dropping timer samples that caught it at work.
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <libunwind.h>

#include "own_code.h"

namespace tierscope::recorder {
namespace {

int ProgramCode() {
  return 7;
}

TEST(OwnCode, CoversLibunwindButNotTheProgram) {
  // This test links libunwind, as the recorder does: its code must be covered.
  void* raw[4];
  ASSERT_GT(unw_backtrace(raw, 4), 0);
  Dl_info info;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&unw_backtrace), &info), 0);
  OwnCode own;
  own.Find();
  EXPECT_GE(own.ranges(), 1u);
  EXPECT_TRUE(own.Contains(reinterpret_cast<uint64_t>(info.dli_saddr)));
  // The program's own code and libc's are the program's.
  EXPECT_FALSE(own.Contains(reinterpret_cast<uint64_t>(&ProgramCode)));
  EXPECT_FALSE(own.Contains(reinterpret_cast<uint64_t>(&dladdr)));
  EXPECT_FALSE(own.Contains(0));
  EXPECT_EQ(ProgramCode(), 7);
}

}  // namespace
}  // namespace tierscope::recorder
