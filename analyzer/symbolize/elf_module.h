// One ELF file opened with libdwfl, reported at bias 0 so that addresses are its ELF virtual
// addresses, with its separate debug information found by build-id (libc6-dbg and the like): what
// the symbolizer reads functions and lines from, and AllocatorCode the allocator's functions.
#pragma once

#include <elfutils/libdwfl.h>

#include <memory>
#include <string>

namespace tierscope::analyzer {

// libdwfl's default search list for debug files: the file's folder, its .debug folder, and
// /usr/lib/debug.
inline constexpr const char* kDefaultDebugPath = ":.debug:/usr/lib/debug";

class ElfModule {
 public:
  // `path` as recorded, read from `file` (the path under a sysroot). `debug_path` is libdwfl's
  // ':'-joined search list; it must outlive the module. Null when the file cannot be read as ELF.
  static std::unique_ptr<ElfModule> Open(const std::string& path, const std::string& file,
                                         const char* debug_path);
  ~ElfModule();
  ElfModule(const ElfModule&) = delete;
  ElfModule& operator=(const ElfModule&) = delete;

  Dwfl_Module* module() const { return module_; }
  const std::string& build_id() const { return build_id_; }  // GNU build-id; empty: none

 private:
  ElfModule() = default;
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* module_ = nullptr;
  Dwfl_Callbacks callbacks_{};  // libdwfl keeps a pointer to it, and it to debug_path_
  char* debug_path_ = nullptr;
  std::string build_id_;
};

}  // namespace tierscope::analyzer
