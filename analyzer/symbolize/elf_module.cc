#include "symbolize/elf_module.h"

#include <fcntl.h>
#include <unistd.h>

namespace tierscope::analyzer {

std::unique_ptr<ElfModule> ElfModule::Open(const std::string& path, const std::string& file,
                                           const char* debug_path) {
  std::unique_ptr<ElfModule> m(new ElfModule());
  m->debug_path_ = const_cast<char*>(debug_path);  // libdwfl's type; it only reads it
  m->callbacks_.find_elf = dwfl_build_id_find_elf;
  m->callbacks_.find_debuginfo = dwfl_standard_find_debuginfo;
  m->callbacks_.section_address = dwfl_offline_section_address;
  m->callbacks_.debuginfo_path = &m->debug_path_;
  m->dwfl_ = dwfl_begin(&m->callbacks_);
  if (m->dwfl_ == nullptr) return nullptr;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  // dwfl takes the fd on success.
  m->module_ = dwfl_report_elf(m->dwfl_, path.c_str(), file.c_str(), fd, 0, false);
  if (m->module_ == nullptr) {
    ::close(fd);
    return nullptr;
  }
  dwfl_report_end(m->dwfl_, nullptr, nullptr);
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr = 0;
  const int n = dwfl_module_build_id(m->module_, &bits, &vaddr);
  if (n > 0) m->build_id_.assign(reinterpret_cast<const char*>(bits), static_cast<size_t>(n));
  return m;
}

ElfModule::~ElfModule() {
  if (dwfl_) dwfl_end(dwfl_);
}

}  // namespace tierscope::analyzer
