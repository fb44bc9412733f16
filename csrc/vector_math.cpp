// erf for vectorized loops, without a link-time dependency on glibc 2.35.
//
// Defines hubkit_erff / hubkit_erf and, on x86-64 glibc, their SIMD variants
// with the names and register ABI GCC calls from vectorized loops (see
// vector_math.h). A variant calls libmvec's variant of erf when the running
// glibc has one (2.35+), found once with dlsym; otherwise it calls the scalar
// libm erf on each lane: as accurate (tests/test_build_glibc.py), only slower.
#define HUBKIT_VECTOR_MATH_DEFINE
#include "vector_math.h"

extern "C" float hubkit_erff(float x) { return ::erff(x); }
extern "C" double hubkit_erf(double x) { return ::erf(x); }

#if HUBKIT_VECTOR_ABI
#include <dlfcn.h>
#include <immintrin.h>

// tests/test_build_glibc.py builds with a library that does not exist, as on
// a glibc without libmvec, to check the fallback.
#ifndef HUBKIT_LIBMVEC
#define HUBKIT_LIBMVEC "libmvec.so.1"
#endif

namespace {

// libmvec's function `name`, or nullptr where this glibc has none.
void* libmvec_symbol(const char* name) {
  static void* const lib = dlopen(HUBKIT_LIBMVEC, RTLD_NOW | RTLD_LOCAL);
  return lib != nullptr ? dlsym(lib, name) : nullptr;
}

}  // namespace

// One variant: PREFIX is its ABI prefix (_ZGVeN16v_), FN the libm name.
// subtle: libmvec's function is looked up once, when hubkit._C loads, and the
// lane-by-lane fallback is a separate function: the common path is then one
// indirect jump with no stack frame (a guarded local static and an inlined
// fallback made bias_gelu ~7% slower at 4096x4096 float32).
#define HUBKIT_ERF_VARIANT(ISA, VEC, LANES, PREFIX, FN)                          \
  namespace {                                                                     \
  void* const PREFIX##FN##_libmvec = libmvec_symbol(#PREFIX #FN);                 \
  __attribute__((target(ISA), noinline)) VEC PREFIX##FN##_lanes(VEC x) {         \
    for (int i = 0; i < LANES; ++i) x[i] = ::FN(x[i]);                            \
    return x;                                                                     \
  }                                                                               \
  }                                                                               \
  extern "C" __attribute__((target(ISA))) VEC PREFIX##hubkit_##FN(VEC x) {       \
    if (__builtin_expect(PREFIX##FN##_libmvec != nullptr, 1))                     \
      return reinterpret_cast<VEC (*)(VEC)>(PREFIX##FN##_libmvec)(x);             \
    return PREFIX##FN##_lanes(x);                                                 \
  }

HUBKIT_ERF_VARIANT("sse2", __m128, 4, _ZGVbN4v_, erff)
HUBKIT_ERF_VARIANT("sse2", __m128d, 2, _ZGVbN2v_, erf)
HUBKIT_ERF_VARIANT("avx", __m256, 8, _ZGVcN8v_, erff)
HUBKIT_ERF_VARIANT("avx", __m256d, 4, _ZGVcN4v_, erf)
HUBKIT_ERF_VARIANT("avx2", __m256, 8, _ZGVdN8v_, erff)
HUBKIT_ERF_VARIANT("avx2", __m256d, 4, _ZGVdN4v_, erf)
HUBKIT_ERF_VARIANT("avx512f", __m512, 16, _ZGVeN16v_, erff)
HUBKIT_ERF_VARIANT("avx512f", __m512d, 8, _ZGVeN8v_, erf)
#endif
