// The three NUMA system calls the lab's checkers use, called directly. libnuma.a would do the
// same, but its move_pages drags in the whole library (an init constructor, and getaddrinfo,
// which static glibc links only with a warning). numaif.h is used for its constants only.
#pragma once

#include <numaif.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tierscope::lab {

inline long SysMovePages(int pid, unsigned long count, void** pages, const int* nodes, int* status,
                         int flags) {
  return syscall(SYS_move_pages, pid, count, pages, nodes, status, flags);
}

inline long SysMbind(void* addr, unsigned long len, int mode, const unsigned long* nodemask,
                     unsigned long maxnode, unsigned flags) {
  return syscall(SYS_mbind, addr, len, mode, nodemask, maxnode, flags);
}

inline long SysGetMempolicy(int* mode, unsigned long* nodemask, unsigned long maxnode, void* addr,
                            unsigned long flags) {
  return syscall(SYS_get_mempolicy, mode, nodemask, maxnode, addr, flags);
}

}  // namespace tierscope::lab
