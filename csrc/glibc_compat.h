// Keeps the compiled extensions importable on glibc 2.28 (manylinux_2_28,
// RHEL 8, Debian 10) when they are built on a newer glibc. CMakeLists.txt
// force-includes it (-include) into every C++ file of hubkit._C and
// hubkit._mujoco; tests/test_build_glibc.py reads the symbol versions the
// built modules need and fails if one is newer than 2.28.
//
// The linker binds each libc call to the newest version of the symbol, and a
// newer glibc gave some symbols a new version:
//   exp, log, pow  GLIBC_2.29  the new ones skip SVID matherr handling; the
//                              old ones give the same values (no errno is read)
//   pthread_once   GLIBC_2.34  libpthread and libdl merged into libc; same
//   dlopen, dlsym              functions (CMakeLists.txt links libpthread and
//                              libdl, where older glibc keeps them)
// `.symver` binds these calls to the old versions, which every glibc keeps.
// When new code calls another such symbol, tests/test_build_glibc.py fails
// naming it: add its line below.
// __libc_single_threaded (GLIBC_2.32) has no old version: libstdc++'s headers
// read it to skip atomic reference counts while a process has one thread. A
// hidden definition that always says 0 ("maybe several threads") takes its
// place in each module: the counts stay atomic, which is always correct.
#pragma once

#if defined(__x86_64__) && defined(__linux__) && defined(__has_include)
#if __has_include(<features.h>)
#include <features.h>
#endif
#endif

#if defined(__x86_64__) && defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 29)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif
#if __GLIBC_PREREQ(2, 34)
__asm__(".symver pthread_once,pthread_once@GLIBC_2.2.5");
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
#endif
#if __GLIBC_PREREQ(2, 32)
#ifdef __cplusplus
extern "C" {
#endif
__attribute__((weak, visibility("hidden"))) char __libc_single_threaded = 0;
#ifdef __cplusplus
}
#endif
#endif
#endif
