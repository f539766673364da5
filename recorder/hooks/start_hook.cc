// The exit status of a program whose main returns. The C library then calls its own exit(),
// past our exit hook, and runs the exit handlers: the program's, then _dl_fini (which runs our
// destructor, which writes the footer). __libc_start_main registers _dl_fini (its rtld_fini
// argument) first thing; this hook instead registers an on_exit handler in its place that stores
// the status and then calls _dl_fini, and passes null for rtld_fini. Same order, plus the status.
//
// The hook must leave no frame of its own under main: every recorded stack ends in _start, and the
// placer (which has no such hook) keys sites by the same frames. So the entry point is a few
// instructions of assembly that call TsPrepareStart and then jump (not call) to the real
// __libc_start_main.
#include <dlfcn.h>

#include <cstdlib>

#include "hook_support.h"

using namespace tierscope::recorder;

namespace {

using RtldFini = void (*)();
RtldFini g_rtld_fini = nullptr;

void ExitWatch(int status, void*) {
  SetExitStatus(status);
  if (g_rtld_fini != nullptr) g_rtld_fini();
}

}  // namespace

// Returned in rax:rdx (two integer eightbytes): where to jump, and the rtld_fini to pass on.
struct StartTarget {
  void* real;
  RtldFini rtld_fini;
};

extern "C" __attribute__((used, visibility("hidden"))) StartTarget TsPrepareStart(
    RtldFini rtld_fini) {
  static void* real = dlsym(RTLD_NEXT, "__libc_start_main");
  if (real == nullptr) abort();  // cannot happen: _start calls it through the GOT
  if (rtld_fini == nullptr) return {real, nullptr};
  g_rtld_fini = rtld_fini;
  if (on_exit(ExitWatch, nullptr) != 0) {
    g_rtld_fini = nullptr;
    return {real, rtld_fini};  // as without the hook
  }
  return {real, nullptr};
}

// __libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end): the six register
// arguments are kept across the call (the seventh is on the stack, untouched), r9 is replaced.
// On entry rsp is 8 mod 16; six pushes and 8 bytes more make it 0 mod 16 at the call.
asm(R"(
  .text
  .globl __libc_start_main
  .type __libc_start_main, @function
__libc_start_main:
  .cfi_startproc
  push %rdi
  .cfi_adjust_cfa_offset 8
  push %rsi
  .cfi_adjust_cfa_offset 8
  push %rdx
  .cfi_adjust_cfa_offset 8
  push %rcx
  .cfi_adjust_cfa_offset 8
  push %r8
  .cfi_adjust_cfa_offset 8
  push %r9
  .cfi_adjust_cfa_offset 8
  sub $8, %rsp
  .cfi_adjust_cfa_offset 8
  mov %r9, %rdi
  call TsPrepareStart
  add $8, %rsp
  .cfi_adjust_cfa_offset -8
  pop %r9
  .cfi_adjust_cfa_offset -8
  mov %rdx, %r9
  pop %r8
  .cfi_adjust_cfa_offset -8
  pop %rcx
  .cfi_adjust_cfa_offset -8
  pop %rdx
  .cfi_adjust_cfa_offset -8
  pop %rsi
  .cfi_adjust_cfa_offset -8
  pop %rdi
  .cfi_adjust_cfa_offset -8
  jmp *%rax
  .cfi_endproc
  .size __libc_start_main, .-__libc_start_main
)");
