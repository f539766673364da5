// Prints any tierscope file in readable form: header, chunk list, messages, decoded events.
#pragma once

#include <optional>
#include <ostream>
#include <string>

#include "tierscope/formats/container.h"

namespace tierscope::formats {

struct DumpOptions {
  bool chunks_only = false;   // only the chunk list, not the messages
  int64_t max_events = 1000;  // per batch; -1 for all
};

// Returns the error that stopped the dump, if any; everything before it has been printed.
std::optional<FormatError> DumpFile(const std::string& path, std::ostream& out,
                                    const DumpOptions& options = {});

}  // namespace tierscope::formats
