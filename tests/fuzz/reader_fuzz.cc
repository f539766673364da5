// libFuzzer target: any byte string, read as a trace, a profile and dumped, must never crash,
// hang or allocate without bound. Built by scripts/fuzz with clang.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <sstream>
#include <string>

#include "tierscope/formats/alloc_columns.h"
#include "tierscope/formats/dump.h"
#include "tierscope/formats/profile_io.h"
#include "tierscope/formats/sample_columns.h"
#include "tierscope/formats/trace_io.h"

namespace {

// The readers take paths, as the CLI does: give them one backed by memory.
std::string MemoryFile(const uint8_t* data, size_t size) {
  static int fd = memfd_create("fuzz-input", 0);
  ftruncate(fd, 0);
  pwrite(fd, data, size, 0);
  return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tierscope::formats;
  const std::string path = MemoryFile(data, size);
  TraceReader reader(path);
  tierscope::trace::TraceChunk chunk;
  while (reader.Next(&chunk)) {
    for (const auto& batch : chunk.allocs()) {
      AllocBatchCursor cursor(batch);
      AllocEvent e;
      while (cursor.Next(&e)) {
      }
    }
    for (const auto& batch : chunk.samples()) {
      SampleBatchCursor cursor(batch);
      AccessSample s;
      while (cursor.Next(&s)) {
      }
    }
  }
  ReadProfile(path);
  ReadProfilePlan(path);  // the placer's read: the plan and its index, no site
  std::ostringstream sink;
  DumpFile(path, sink);
  return 0;
}
