// Vectorized libm calls for hot loops.
//
// glibc ships SIMD versions of erf/exp (libmvec: SSE, AVX2, AVX-512), but its
// math.h declares them only under -ffast-math, which would also change NaN
// and rounding rules for the whole file. Declaring the SIMD variants here lets
// GCC vectorize `#pragma omp simd` loops that call these functions, with no
// other change in semantics. Elsewhere the declarations are plain.
#pragma once

#include <cmath>

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && !defined(__clang__)
#define HUBKIT_SIMD_DECL __attribute__((simd("notinbranch")))
// Compiled once per instruction set; the loader picks the best at run time.
#define HUBKIT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HUBKIT_SIMD_DECL
#define HUBKIT_MULTIVERSION
#endif

extern "C" {
float erff(float) HUBKIT_SIMD_DECL;
double erf(double) HUBKIT_SIMD_DECL;
float expf(float) HUBKIT_SIMD_DECL;
double exp(double) HUBKIT_SIMD_DECL;
}

namespace hubkit::vmath {
inline float erf(float x) { return ::erff(x); }
inline double erf(double x) { return ::erf(x); }
inline float exp(float x) { return ::expf(x); }
inline double exp(double x) { return ::exp(x); }
}  // namespace hubkit::vmath
