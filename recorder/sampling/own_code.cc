#include "own_code.h"

#include <link.h>

#include <cstring>
#include <initializer_list>

namespace tierscope::recorder {
namespace {

bool IsOurs(const char* path) {
  if (path == nullptr) return false;
  const char* slash = std::strrchr(path, '/');
  const char* name = slash ? slash + 1 : path;
  for (const char* prefix : {"libtierscope-recorder", "libunwind", "libxxhash"}) {
    if (std::strncmp(name, prefix, std::strlen(prefix)) == 0) return true;
  }
  return false;
}

}  // namespace

void OwnCode::Find() {
  count_ = 0;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* self = static_cast<OwnCode*>(data);
        if (!IsOurs(info->dlpi_name)) return 0;
        for (int i = 0; i < info->dlpi_phnum && self->count_ < kMax; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
          self->lo_[self->count_] = info->dlpi_addr + ph.p_vaddr;
          self->hi_[self->count_] = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
          ++self->count_;
        }
        return 0;
      },
      this);
}

}  // namespace tierscope::recorder
