// Packed GEMM in the style of GotoBLAS/BLIS (Goto & van de Geijn, 2008,
// https://doi.org/10.1145/1356052.1356053):
//
//   for each NC-wide block of columns of B, each KC-deep slice of K:
//     pack B[KC, NC] into NR-wide panels (stays in L2/L3)
//     for each MC-tall block of rows of A: pack A[MC, KC] into MR-tall panels (L2)
//       for each NR panel, each MR panel: micro-kernel, an MR x NR tile of C
//       held in registers while it streams KC rank-1 updates.
//
// The micro-kernel is written with GCC/Clang vector extensions, so the SIMD is
// visible to the compiler on every target. x86 gets function multiversioning:
// the same template instantiated inside AVX-512, AVX2 and baseline functions,
// picked at run time with __builtin_cpu_supports, so the wheel stays portable.
#include "conv2d/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"

#if defined(__GNUC__)
#define HK_INLINE inline __attribute__((always_inline))
#else
#define HK_INLINE inline
#endif

namespace hubkit {
namespace {

#if defined(__GNUC__)
// aligned(sizeof element): loads and stores through these types may be unaligned.
typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef float v4f __attribute__((vector_size(16), aligned(4)));
typedef double v8d __attribute__((vector_size(64), aligned(8)));
typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef double v2d __attribute__((vector_size(16), aligned(8)));
#endif

constexpr std::int64_t kKC = 256;

template <typename T, typename V, int MR, int NV>
struct Tile {
  static constexpr int L = sizeof(V) / sizeof(T);  // lanes per vector
  static constexpr int NR = NV * L;
  static constexpr std::int64_t MC = MR * 12;
  static constexpr std::int64_t NC = NR * 128;
};

// pa: KC x MR panel (MR values per k); pb: KC x NR panel. C tile: rows x cols valid.
template <typename T, typename V, int MR, int NV>
HK_INLINE void micro_kernel(std::int64_t kc, const T* __restrict pa, const T* __restrict pb,
                            T* c, std::int64_t ldc, bool accumulate, int rows, int cols) {
  using Tl = Tile<T, V, MR, NV>;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < NV; ++j) acc[i][j] = V{};
  for (std::int64_t p = 0; p < kc; ++p) {
    V bv[NV];
#pragma GCC unroll 16
    for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], pb + p * Tl::NR + j * Tl::L, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const T a = pa[p * MR + i];
#pragma GCC unroll 16
      for (int j = 0; j < NV; ++j) acc[i][j] += a * bv[j];
    }
  }
  if (rows == MR && cols == Tl::NR) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
      for (int j = 0; j < NV; ++j) {
        T* dst = c + i * ldc + j * Tl::L;
        V out = acc[i][j];
        if (accumulate) {
          V old;
          std::memcpy(&old, dst, sizeof(V));
          out += old;
        }
        std::memcpy(dst, &out, sizeof(V));
      }
    return;
  }
  T tmp[MR][Tl::NR];  // edge tile: spill, then copy the valid part
  std::memcpy(tmp, acc, sizeof(tmp));
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) c[i * ldc + j] = (accumulate ? c[i * ldc + j] : T(0)) + tmp[i][j];
}

// B[pc:pc+kc, jc:jc+nc] -> NR-wide panels, zero-padded past nc.
template <typename T, int NR>
HK_INLINE void pack_b(std::int64_t kc, std::int64_t nc, MatView<T> b, T* __restrict out) {
  for (std::int64_t j0 = 0; j0 < nc; j0 += NR) {
    const int w = static_cast<int>(std::min<std::int64_t>(NR, nc - j0));
    T* dst = out + j0 * kc;
    if (b.row_stride == 1 && b.col_stride != 1) {  // B stored transposed: read its rows
      for (int j = 0; j < w; ++j) {
        const T* src = b.data + (j0 + j) * b.col_stride;
        for (std::int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p];
      }
      for (int j = w; j < NR; ++j)
        for (std::int64_t p = 0; p < kc; ++p) dst[p * NR + j] = T(0);
      continue;
    }
    for (std::int64_t p = 0; p < kc; ++p) {
      const T* src = b.data + p * b.row_stride + j0 * b.col_stride;
      int j = 0;
      if (b.col_stride == 1) {
        for (; j < w; ++j) dst[p * NR + j] = src[j];
      } else {
        for (; j < w; ++j) dst[p * NR + j] = src[j * b.col_stride];
      }
      for (; j < NR; ++j) dst[p * NR + j] = T(0);
    }
  }
}

// A[ic:ic+mc, pc:pc+kc] -> MR-tall panels, zero-padded past mc.
template <typename T, int MR>
HK_INLINE void pack_a(std::int64_t mc, std::int64_t kc, MatView<T> a, T* __restrict out) {
  for (std::int64_t i0 = 0; i0 < mc; i0 += MR) {
    const int h = static_cast<int>(std::min<std::int64_t>(MR, mc - i0));
    T* dst = out + i0 * kc;
    for (std::int64_t p = 0; p < kc; ++p) {
      const T* src = a.data + i0 * a.row_stride + p * a.col_stride;
      int i = 0;
      for (; i < h; ++i) dst[p * MR + i] = src[i * a.row_stride];
      for (; i < MR; ++i) dst[p * MR + i] = T(0);
    }
  }
}

template <typename T>
std::vector<T>& scratch(int which) {
  thread_local std::vector<T> buffers[2];  // per-thread packing buffers, reused across calls
  return buffers[which];
}

template <typename T, typename V, int MR, int NV>
HK_INLINE void gemm_serial(std::int64_t m, std::int64_t n, std::int64_t k, MatView<T> a,
                           MatView<T> b, T* c, std::int64_t ldc, bool accumulate) {
  using Tl = Tile<T, V, MR, NV>;
  std::vector<T>& abuf = scratch<T>(0);
  std::vector<T>& bbuf = scratch<T>(1);
  abuf.resize(Tl::MC * kKC);
  bbuf.resize(kKC * Tl::NC);
  for (std::int64_t jc = 0; jc < n; jc += Tl::NC) {
    const std::int64_t nc = std::min(Tl::NC, n - jc);
    for (std::int64_t pc = 0; pc < k; pc += kKC) {
      const std::int64_t kc = std::min(kKC, k - pc);
      const bool acc = accumulate || pc > 0;  // later K slices add onto the first
      pack_b<T, Tl::NR>(kc, nc, {b.data + pc * b.row_stride + jc * b.col_stride,
                                 b.row_stride, b.col_stride}, bbuf.data());
      for (std::int64_t ic = 0; ic < m; ic += Tl::MC) {
        const std::int64_t mc = std::min(Tl::MC, m - ic);
        pack_a<T, MR>(mc, kc, {a.data + ic * a.row_stride + pc * a.col_stride,
                               a.row_stride, a.col_stride}, abuf.data());
        for (std::int64_t jr = 0; jr < nc; jr += Tl::NR) {
          const int cols = static_cast<int>(std::min<std::int64_t>(Tl::NR, nc - jr));
          for (std::int64_t ir = 0; ir < mc; ir += MR) {
            const int rows = static_cast<int>(std::min<std::int64_t>(MR, mc - ir));
            micro_kernel<T, V, MR, NV>(kc, abuf.data() + ir * kc, bbuf.data() + jr * kc,
                                       c + (ic + ir) * ldc + jc + jr, ldc, acc, rows, cols);
          }
        }
      }
    }
  }
}

template <typename T>
using SerialGemm = void (*)(std::int64_t, std::int64_t, std::int64_t, MatView<T>, MatView<T>,
                            T*, std::int64_t, bool);

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HK_X86 1
__attribute__((target("avx512f,fma"))) void sgemm_avx512(std::int64_t m, std::int64_t n,
    std::int64_t k, MatView<float> a, MatView<float> b, float* c, std::int64_t ldc, bool acc) {
  gemm_serial<float, v16f, 8, 2>(m, n, k, a, b, c, ldc, acc);
}
__attribute__((target("avx2,fma"))) void sgemm_avx2(std::int64_t m, std::int64_t n,
    std::int64_t k, MatView<float> a, MatView<float> b, float* c, std::int64_t ldc, bool acc) {
  gemm_serial<float, v8f, 6, 2>(m, n, k, a, b, c, ldc, acc);
}
__attribute__((target("avx512f,fma"))) void dgemm_avx512(std::int64_t m, std::int64_t n,
    std::int64_t k, MatView<double> a, MatView<double> b, double* c, std::int64_t ldc, bool acc) {
  gemm_serial<double, v8d, 8, 2>(m, n, k, a, b, c, ldc, acc);
}
__attribute__((target("avx2,fma"))) void dgemm_avx2(std::int64_t m, std::int64_t n,
    std::int64_t k, MatView<double> a, MatView<double> b, double* c, std::int64_t ldc, bool acc) {
  gemm_serial<double, v4d, 6, 2>(m, n, k, a, b, c, ldc, acc);
}
#endif

void sgemm_base(std::int64_t m, std::int64_t n, std::int64_t k, MatView<float> a,
                MatView<float> b, float* c, std::int64_t ldc, bool acc) {
#if defined(__GNUC__)
  gemm_serial<float, v4f, 6, 2>(m, n, k, a, b, c, ldc, acc);
#else
  gemm_serial<float, float, 4, 4>(m, n, k, a, b, c, ldc, acc);
#endif
}
void dgemm_base(std::int64_t m, std::int64_t n, std::int64_t k, MatView<double> a,
                MatView<double> b, double* c, std::int64_t ldc, bool acc) {
#if defined(__GNUC__)
  gemm_serial<double, v2d, 6, 2>(m, n, k, a, b, c, ldc, acc);
#else
  gemm_serial<double, double, 4, 4>(m, n, k, a, b, c, ldc, acc);
#endif
}

SerialGemm<float> pick(float*) {
#ifdef HK_X86
  if (__builtin_cpu_supports("avx512f")) return sgemm_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return sgemm_avx2;
#endif
  return sgemm_base;
}
SerialGemm<double> pick(double*) {
#ifdef HK_X86
  if (__builtin_cpu_supports("avx512f")) return dgemm_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return dgemm_avx2;
#endif
  return dgemm_base;
}

template <typename T>
void gemm_any(std::int64_t m, std::int64_t n, std::int64_t k, MatView<T> a, MatView<T> b, T* c,
              std::int64_t ldc, bool accumulate, int threads) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {  // an empty sum: C = 0 (or unchanged when accumulating)
    if (!accumulate)
      for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return;
  }
  static const SerialGemm<T> fn = pick(static_cast<T*>(nullptr));
  constexpr std::int64_t align = 32;  // column chunks stay multiples of every NR
  const std::int64_t chunks = std::min<std::int64_t>(threads, (n + align - 1) / align);
  if (chunks <= 1) return fn(m, n, k, a, b, c, ldc, accumulate);
  const std::int64_t per = ((n + chunks - 1) / chunks + align - 1) / align * align;
#pragma omp parallel for num_threads(static_cast<int>(chunks)) schedule(static)
  for (std::int64_t t = 0; t < chunks; ++t) {
    const std::int64_t j0 = t * per, j1 = std::min(n, j0 + per);
    if (j0 < j1)
      fn(m, j1 - j0, k, a, {b.data + j0 * b.col_stride, b.row_stride, b.col_stride}, c + j0, ldc,
         accumulate);
  }
}

}  // namespace

void gemm(std::int64_t m, std::int64_t n, std::int64_t k, MatView<float> a, MatView<float> b,
          float* c, std::int64_t ldc, bool accumulate, int threads) {
  gemm_any<float>(m, n, k, a, b, c, ldc, accumulate, threads);
}
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, MatView<double> a, MatView<double> b,
          double* c, std::int64_t ldc, bool accumulate, int threads) {
  gemm_any<double>(m, n, k, a, b, c, ldc, accumulate, threads);
}

}  // namespace hubkit
