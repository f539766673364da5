// The placer's timeline (TIERSCOPE_PLACER_TIMELINE=PATH): a thread of the placer appends one JSON
// line every TIERSCOPE_PLACER_TIMELINE_EVERY seconds (default 10), and one more at exit: the
// process's RSS against the live bytes jemalloc counts (all arenas, and each tier's), with each
// tier's resident pages and footprint. For long runs: does the resident set drift away from what
// the program holds (fragmentation, pages not given back)? bench/soak plots it.
//
// Each process of a tree writes its own file (ProcessFilePath); a forked child starts its own
// thread. The file is opened for each line (a program may close every descriptor); a line that
// cannot be written is said once on stderr and the timeline stops.
#pragma once

#include <string>

namespace tierscope::placer {

// From the constructor, after the fork handlers of the allocation path are registered. `pattern`
// is TIERSCOPE_PLACER_TIMELINE; `tree_root`: this process is the first of its tree.
void StartTimeline(const std::string& pattern, bool tree_root, double every_seconds);
// At exit: the last line; the thread writes no more.
void StopTimeline();

}  // namespace tierscope::placer
