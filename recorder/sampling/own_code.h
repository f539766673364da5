// The code the recorder runs inside the program's threads: its own library and the libraries its
// hooks call into (libunwind for stacks, libxxhash for the stack table). A timer sample whose IP
// is there caught the recorder at work, not the program: counted as "ip_in_recorder", never as an
// access. Without this, allocation-heavy programs showed 10-49% of their samples in the recorder's
// own memory, most of them counted as "mapping".
#pragma once

#include <cstddef>
#include <cstdint>

namespace tierscope::recorder {

class OwnCode {
 public:
  // Finds the executable segments of the loaded modules whose file name starts with one of the
  // recorder's (libtierscope-recorder, libunwind, libxxhash). Call once, outside a hook.
  void Find();
  bool Contains(uint64_t ip) const {
    for (size_t i = 0; i < count_; ++i) {
      if (ip >= lo_[i] && ip < hi_[i]) return true;
    }
    return false;
  }
  size_t ranges() const { return count_; }

 private:
  static constexpr size_t kMax = 16;
  uint64_t lo_[kMax] = {}, hi_[kMax] = {};
  size_t count_ = 0;
};

}  // namespace tierscope::recorder
