// Vectorized erf/exp for hot loops.
//
// GCC vectorizes a `#pragma omp simd` loop that calls a function declared
// `__attribute__((simd))` by calling that function's SIMD variants, named
// _ZGV<isa>N<lanes>v_<name> by the x86-64 vector function ABI (isa b = SSE2,
// c = AVX, d = AVX2, e = AVX-512). glibc's libmvec ships such variants of exp
// (since glibc 2.22) and erf (since 2.35), but math.h declares them only under
// -ffast-math, which would also change NaN and rounding rules for the whole
// file; so they are declared here. Elsewhere the declarations are plain.
//
// subtle: linking libmvec's erf variants would make hubkit._C need GLIBC_2.35
// and fail to import on Ubuntu 20.04, RHEL 8/9 and manylinux_2_28. So erf goes
// through hubkit_erff / hubkit_erf, whose SIMD variants (vector_math.cpp) look
// libmvec's up at run time and, on an older glibc, call the scalar erf lane by
// lane. exp's variants (GLIBC_2.22) are linked directly.
#pragma once

#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && !defined(__clang__)
#define HUBKIT_VECTOR_ABI 1
#define HUBKIT_SIMD_DECL __attribute__((simd("notinbranch")))
// Compiled once per instruction set; the loader picks the best at run time.
#define HUBKIT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HUBKIT_VECTOR_ABI 0
#define HUBKIT_SIMD_DECL
#define HUBKIT_MULTIVERSION
#endif

// subtle: vector_math.cpp defines the variants of hubkit_erf* by hand; if it saw
// the simd attribute on them, GCC would generate a second set of its own.
#ifdef HUBKIT_VECTOR_MATH_DEFINE
#define HUBKIT_ERF_DECL
#else
#define HUBKIT_ERF_DECL HUBKIT_SIMD_DECL
#endif

extern "C" {
float hubkit_erff(float) HUBKIT_ERF_DECL;
double hubkit_erf(double) HUBKIT_ERF_DECL;
float expf(float) HUBKIT_SIMD_DECL;
double exp(double) HUBKIT_SIMD_DECL;
}

namespace hubkit::vmath {
inline float erf(float x) { return ::hubkit_erff(x); }
inline double erf(double x) { return ::hubkit_erf(x); }
inline float exp(float x) { return ::expf(x); }
inline double exp(double x) { return ::exp(x); }
}  // namespace hubkit::vmath
