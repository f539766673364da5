// Offline symbolization with elfutils libdw: (module, ELF offset) -> function, file, line and
// the inlined chain. Missing files or symbols leave a location unsymbolized, never fail.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "profile.pb.h"

namespace tierscope::analyzer {

class ElfModule;

struct SymbolizeOptions {
  std::string sysroot;                  // prefixed to module paths
  std::vector<std::string> debug_dirs;  // e.g. /usr/lib/debug (searched by build-id)
};

class Symbolizer {
 public:
  explicit Symbolizer(SymbolizeOptions options);
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Fills loc->lines (innermost first). `return_address`: look up offset - 1, the call.
  // False when nothing was found.
  bool Symbolize(profile::Location* loc, bool return_address = true);
  // Every location of every site; returns how many got a function name.
  size_t SymbolizeProfile(profile::ProfileChunk* profile);
  // Looks `frames` up ahead (the cache keeps them): SymbolizeProfile then finds them there.
  // Returns early once `stop` is requested.
  void Prepare(const std::vector<profile::Location>& frames, std::stop_token stop = {});
  // Modules whose file here has another GNU build-id than the one recorded (a rebuilt binary):
  // their locations are left unnamed, as the file's names would be another build's.
  const std::set<std::string>& other_builds() const { return other_builds_; }

 private:
  ElfModule* Open(const std::string& path);  // null when the file is not here

  SymbolizeOptions options_;
  std::string debug_path_;  // ':'-joined for libdwfl
  std::map<std::string, std::unique_ptr<ElfModule>> modules_;
  std::set<std::string> other_builds_;
  std::map<std::pair<std::string, uint64_t>, std::vector<profile::SourceLine>> cache_;
};

std::string Demangle(const char* name);

}  // namespace tierscope::analyzer
