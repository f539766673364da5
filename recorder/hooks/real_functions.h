// The functions the hooks wrap, found with dlsym(RTLD_NEXT): the next definition after ours
// (glibc's, or the allocator the program was linked or preloaded with).
#pragma once

#include <pthread.h>
#include <spawn.h>
#include <sys/types.h>

#include <cstddef>

namespace tierscope::recorder {

struct RealFunctions {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void* (*reallocarray)(void*, size_t, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void*);
  void* (*mmap)(void*, size_t, int, int, int, off_t);
  int (*munmap)(void*, size_t);
  void* (*mremap)(void*, size_t, size_t, int, ...);
  int (*pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  void* (*dlopen)(const char*, int);
  int (*dlclose)(void*);
  void (*exit)(int);
  void (*_exit)(int);
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  int (*fexecve)(int, char* const[], char* const[]);
  int (*execveat)(int, const char*, char* const[], char* const[], int);
  int (*posix_spawn)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                     const posix_spawnattr_t*, char* const[], char* const[]);
  int (*posix_spawnp)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                      const posix_spawnattr_t*, char* const[], char* const[]);
};

extern RealFunctions real;

// Fills `real` once. False while this thread is inside dlsym (whose own allocations must then
// be served from the bootstrap pool).
bool ResolveRealFunctions();

// A small static pool for allocations made before the real allocator is known.
void* BootstrapAlloc(size_t size, size_t alignment);
bool IsBootstrapPointer(const void* p);
size_t BootstrapSize(const void* p);

}  // namespace tierscope::recorder
