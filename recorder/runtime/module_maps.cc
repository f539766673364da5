#include "module_maps.h"

#include "tierscope/common/gnu_build_id.h"

#include <elf.h>
#include <link.h>
#include <unistd.h>

#include <cstring>

namespace tierscope::recorder {
namespace {

std::string ExecutablePath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

int AddModule(dl_phdr_info* info, size_t, void* data) {
  auto* map = static_cast<trace::ModuleMap*>(data);
  trace::Module m;
  std::string path = info->dlpi_name != nullptr ? info->dlpi_name : "";
  if (path.empty()) {
    // The main program has an empty name; the vDSO has one but no file.
    if (map->modules_size() == 0) path = ExecutablePath();
  }
  m.set_path(path.empty() ? "[unnamed]" : path);
  m.set_load_bias(info->dlpi_addr);
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    const uint64_t start = info->dlpi_addr + ph.p_vaddr;
    if (ph.p_type == PT_LOAD) {
      trace::Segment* s = m.add_segments();
      s->set_start(start);
      s->set_end(start + ph.p_memsz);
      s->set_executable((ph.p_flags & PF_X) != 0);
    } else if (ph.p_type == PT_NOTE && m.build_id().empty()) {
      m.set_build_id(BuildIdFromNotes(
          {reinterpret_cast<const char*>(start), static_cast<size_t>(ph.p_memsz)}));
    }
  }
  if (m.segments_size() > 0) *map->add_modules() = std::move(m);
  return 0;
}

}  // namespace

std::string BuildIdFromNotes(std::string_view notes) {
  return std::string(FindGnuBuildId(notes));
}

trace::ModuleMap SnapshotModules(uint64_t time_ns) {
  trace::ModuleMap map;
  map.set_time_ns(time_ns);
  dl_iterate_phdr(AddModule, &map);
  return map;
}

}  // namespace tierscope::recorder
