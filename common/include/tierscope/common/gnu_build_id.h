// The GNU build-id of a loaded module, read from its PT_NOTE segments in memory. Shared by the
// recorder, the placer and the lab's guest tools, which must agree on it (it is half of a site's
// match key); allocation-free, so the preloaded libraries can call it anywhere.
#pragma once

#include <elf.h>
#include <link.h>

#include <cstring>
#include <string_view>

namespace tierscope {

// The descriptor of the first NT_GNU_BUILD_ID note in `notes` (a PT_NOTE segment's bytes), or an
// empty view. Malformed or truncated notes end the search instead of reading past `notes`.
inline std::string_view FindGnuBuildId(std::string_view notes) {
  auto align4 = [](size_t n) { return (n + 3) & ~size_t{3}; };
  size_t pos = 0;
  while (pos + sizeof(ElfW(Nhdr)) <= notes.size()) {
    ElfW(Nhdr) nh;
    std::memcpy(&nh, notes.data() + pos, sizeof nh);
    const size_t name_at = pos + sizeof nh;
    const size_t desc_at = name_at + align4(nh.n_namesz);
    const size_t next = desc_at + align4(nh.n_descsz);
    if (desc_at + nh.n_descsz > notes.size() || next <= pos) break;
    if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
        std::memcmp(notes.data() + name_at, "GNU", 4) == 0) {
      return notes.substr(desc_at, nh.n_descsz);
    }
    pos = next;
  }
  return {};
}

// The build-id of a module as dl_iterate_phdr reports it, or an empty view.
inline std::string_view FindGnuBuildId(const dl_phdr_info* info) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_NOTE) continue;
    const auto* notes = reinterpret_cast<const char*>(info->dlpi_addr + ph.p_vaddr);
    const std::string_view id = FindGnuBuildId(std::string_view(notes, ph.p_memsz));
    if (!id.empty()) return id;
  }
  return {};
}

}  // namespace tierscope
