// Winograd convolution F(m x m, 3 x 3), m = 2 or 4 (Lavin & Gray, "Fast Algorithms
// for Convolutional Neural Networks", 2016, https://arxiv.org/abs/1509.09308).
//
// An output tile Y (m x m) of a 3x3 correlation of an input tile d (a x a, a = m + 2)
// with a filter g (3 x 3) is
//
//   Y = A^T [ (G g G^T) * (B^T d B) ] A        (* elementwise over the a x a positions)
//
// Summed over input channels, the elementwise product becomes, for each of the a*a
// positions, one GEMM:  M[pos] (tiles, K) = V[pos] (tiles, C) @ U[pos] (C, K).
// F(4,3) does 36 multiplies per 16 outputs instead of 16 * 9 = 144 (4x fewer);
// F(2,3) does 16 per 4 (2.25x fewer). The price is rounding: see python/hubkit/cnn/ops.py
// for the errors measured against float64.
//
// Work is split in bands: a few rows of tiles of one image, one band per task, so a
// band's V and M stay in L2 between the transforms and the GEMMs:
//
//   1. copy the band's input rows to a channels-last strip   xb (rows, cols, Cp)
//   2. input transform, vectorized over channels             v  (a*a, tiles, Cp)
//   3. a*a GEMMs against the packed filter transform         mo (a*a, tiles, Kp)
//   4. output transform, vectorized over output channels     yb (rows, cols, Kp)
//   5. copy back to the NCHW output (+ bias), clipped to (P, Q)
//
// grad_w runs the same bands: V from x, dM = A gy A^T from grad_y (the adjoint of the
// output transform), dL/dU[pos] (C, K) += V[pos]^T @ dM[pos] per thread, then
// grad_w = G^T dL/dU G once at the end.
//
// U is packed once per weight (the caller caches it): [pos][K / NR][Cp][NR], channels
// padded with zeros to one vector (Cp) and output channels to the GEMM panel (Kp).
// Like gemm.cpp, the SIMD is written with GCC vector extensions and compiled for
// AVX-512, AVX2 and baseline, picked at run time.
#include "conv2d/winograd.h"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.h"

#if defined(__GNUC__)
#define HK_INLINE inline __attribute__((always_inline))
// subtle: the vector helpers below are always inlined into functions compiled for
// one ISA, so GCC's note that their by-value vector ABI depends on -mavx is moot.
#pragma GCC diagnostic ignored "-Wpsabi"
#else
#define HK_INLINE inline
#endif

namespace hubkit::winograd {
namespace {

// Transform matrices: B^T (a x a), G (a x 3), A^T (m x a).
template <int M>
struct Mats;
template <>
struct Mats<2> {
  static constexpr double BT[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
  static constexpr double G[4][3] = {{1, 0, 0}, {.5, .5, .5}, {.5, -.5, .5}, {0, 0, 1}};
  static constexpr double AT[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
  static constexpr double A[4][2] = {{1, 0}, {1, 1}, {1, -1}, {0, -1}};
};
template <>
struct Mats<4> {  // interpolation points 0, 1, -1, 2, -2 and infinity
  static constexpr double BT[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0},
                                      {0, 4, -4, -1, 1, 0}, {0, -2, -1, 2, 1, 0},
                                      {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
  static constexpr double G[6][3] = {{1. / 4, 0, 0},          {-1. / 6, -1. / 6, -1. / 6},
                                     {-1. / 6, 1. / 6, -1. / 6}, {1. / 24, 1. / 12, 1. / 6},
                                     {1. / 24, -1. / 12, 1. / 6}, {0, 0, 1}};
  static constexpr double AT[4][6] = {
      {1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};
  static constexpr double A[6][4] = {{1, 0, 0, 0}, {1, 1, 1, 1}, {1, -1, 1, -1},
                                     {1, 2, 4, 8},  {1, -2, 4, -8}, {0, 0, 0, 1}};
};

template <typename T>
constexpr std::int64_t kCB = 64 / sizeof(T);  // channels padded to one 512-bit vector
template <typename T>
constexpr std::int64_t kNR = 128 / sizeof(T);  // output channels per packed GEMM panel
constexpr std::int64_t kRowPad = 8;  // tiles per band padded to a multiple of every MR

std::int64_t round_up(std::int64_t v, std::int64_t to) { return (v + to - 1) / to * to; }

// ---------------------------------------------------------------- filter transform

template <typename T, int M>
void filter_impl(const T* w, T* u, std::int64_t ko, std::int64_t ci, bool flip) {
  using Mt = Mats<M>;
  constexpr int A = M + 2;
  const std::int64_t cp = round_up(ci, kCB<T>), nkb = round_up(ko, kNR<T>) / kNR<T>;
  std::fill(u, u + A * A * nkb * kNR<T> * cp, T(0));
#pragma omp parallel for schedule(static) if (ko * ci > 4096)
  for (std::int64_t o = 0; o < ko; ++o)
    for (std::int64_t i = 0; i < ci; ++i) {
      double g[3][3], t[A][3];
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 3; ++s)  // flip: w is (ci, ko, 3, 3), read rotated by 180 degrees
          g[r][s] = flip ? w[((i * ko + o) * 3 + 2 - r) * 3 + 2 - s]
                         : w[((o * ci + i) * 3 + r) * 3 + s];
      for (int a = 0; a < A; ++a)
        for (int s = 0; s < 3; ++s)
          t[a][s] = Mt::G[a][0] * g[0][s] + Mt::G[a][1] * g[1][s] + Mt::G[a][2] * g[2][s];
      for (int a = 0; a < A; ++a)
        for (int b = 0; b < A; ++b) {
          const double v = t[a][0] * Mt::G[b][0] + t[a][1] * Mt::G[b][1] + t[a][2] * Mt::G[b][2];
          u[(((a * A + b) * nkb + o / kNR<T>) * cp + i) * kNR<T> + o % kNR<T>] = static_cast<T>(v);
        }
    }
}

// ---------------------------------------------------------------- one band of tiles

template <typename T>
struct Problem {
  const T* x;
  const T* u;
  const T* bias;
  T* y;
  std::int64_t n, c, h, w, k, p, q, ph, pw;
  std::int64_t tw, th, rows, bands_per_image, cp, kp;  // tiles across/down, tile rows per band
  const T* gy = nullptr;  // grad_weight: grad_y (N, K, P, Q)
};

template <typename T>
struct Scratch {
  std::vector<T> xb, v, mo, yb;
};

template <typename V, typename T>
HK_INLINE V load(const T* p) {
  V v;
  std::memcpy(&v, p, sizeof(V));
  return v;
}
template <typename V, typename T>
HK_INLINE void store(T* p, const V& v) {
  std::memcpy(p, &v, sizeof(V));
}

// out = sum_j row[j] * in[j * stride], skipping zero coefficients (known at compile time
// once inlined and unrolled) and multiplies by +-1.
template <typename T, typename V, int NI>
HK_INLINE V combine(const double (&row)[NI], const V* in, int stride) {
  V acc{};
  bool first = true;
#pragma GCC unroll 8
  for (int j = 0; j < NI; ++j) {
    const double c = row[j];
    if (c == 0) continue;
    const V term = (c == 1 || c == -1) ? in[j * stride] : static_cast<T>(c) * in[j * stride];
    if (first) acc = c == -1 ? -term : term;
    else if (c == -1) acc -= term;
    else acc += term;
    first = false;
  }
  return acc;
}

// out (NO x NO) = Mx in Mx^T for an NI x NI block of vectors (row stride NI).
template <typename T, typename V, int NO, int NI>
HK_INLINE void sandwich(const double (&mx)[NO][NI], const V* in, V* out) {
  V t[NO][NI];
#pragma GCC unroll 8
  for (int i = 0; i < NO; ++i)
#pragma GCC unroll 8
    for (int b = 0; b < NI; ++b) t[i][b] = combine<T, V, NI>(mx[i], in + b, NI);
#pragma GCC unroll 8
  for (int i = 0; i < NO; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < NO; ++j) out[i * NO + j] = combine<T, V, NI>(mx[j], t[i], 1);
}

// Step 1: rows [r0, r0 + rows) and columns [c0, c0 + cols) of the planes src (ch, h, w),
// channels last into dst (rows, cols, cp); zeros outside the image and past ch.
template <typename T>
void to_channels_last(const T* src, std::int64_t ch, std::int64_t h, std::int64_t w,
                      std::int64_t r0, std::int64_t c0, std::int64_t rows, std::int64_t cols,
                      std::int64_t cp, T* dst) {
  std::fill(dst, dst + rows * cols * cp, T(0));
  const std::int64_t j0 = std::max<std::int64_t>(0, -c0), j1 = std::min(cols, w - c0);
  for (std::int64_t c = 0; c < ch; ++c)
    for (std::int64_t r = 0; r < rows; ++r) {
      const std::int64_t ih = r0 + r;
      if (ih < 0 || ih >= h) continue;
      const T* row = src + (c * h + ih) * w + c0;
      T* out = dst + r * cols * cp + c;
      for (std::int64_t j = j0; j < j1; ++j) out[j * cp] = row[j];
    }
}

template <typename T, int M>
void gather_strip(const Problem<T>& pr, std::int64_t ni, std::int64_t th0, std::int64_t nrows,
                  T* xb) {
  to_channels_last(pr.x + ni * pr.c * pr.h * pr.w, pr.c, pr.h, pr.w, th0 * M - pr.ph, -pr.pw,
                   nrows * M + 2, pr.tw * M + 2, pr.cp, xb);
}

// Step 2: v[pos][t][:] = (B^T d B)[pos] for every tile t of the band.
template <typename T, typename V, int M>
HK_INLINE void input_transform(const Problem<T>& pr, const T* xb, std::int64_t nt,
                               std::int64_t ntp, T* v) {
  constexpr int A = M + 2, L = sizeof(V) / sizeof(T);
  const std::int64_t cols = pr.tw * M + 2;
  for (std::int64_t t = 0; t < nt; ++t) {
    const T* base = xb + ((t / pr.tw) * M * cols + (t % pr.tw) * M) * pr.cp;
    for (std::int64_t cv = 0; cv < pr.cp; cv += L) {
      V d[A * A], out[A * A];
#pragma GCC unroll 8
      for (int a = 0; a < A; ++a)
#pragma GCC unroll 8
        for (int b = 0; b < A; ++b) d[a * A + b] = load<V>(base + (a * cols + b) * pr.cp + cv);
      sandwich<T, V, A, A>(Mats<M>::BT, d, out);
#pragma GCC unroll 8
      for (int pos = 0; pos < A * A; ++pos) store(v + (pos * ntp + t) * pr.cp + cv, out[pos]);
    }
  }
  for (int pos = 0; pos < A * A; ++pos)  // padding rows: zeros, so the GEMM reads no garbage
    std::fill(v + (pos * ntp + nt) * pr.cp, v + (pos * ntp + ntp) * pr.cp, T(0));
}

// Step 3 kernel: c[MR, NR] (+)= a[MR, kc] @ b[kc, NR]; a(i, p) at a[i * ars + p * acs],
// b's row p at b + p * bs (NR contiguous values).
template <typename T, typename V, int MR, int NV>
HK_INLINE void micro_kernel(std::int64_t kc, const T* a, std::int64_t ars, std::int64_t acs,
                            const T* b, std::int64_t bs, T* c, std::int64_t ldc, bool accumulate) {
  constexpr int L = sizeof(V) / sizeof(T);
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < NV; ++j) acc[i][j] = accumulate ? load<V>(c + i * ldc + j * L) : V{};
  for (std::int64_t p = 0; p < kc; ++p) {
    V bv[NV];
#pragma GCC unroll 16
    for (int j = 0; j < NV; ++j) bv[j] = load<V>(b + p * bs + j * L);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const T ai = a[i * ars + p * acs];
#pragma GCC unroll 16
      for (int j = 0; j < NV; ++j) acc[i][j] += ai * bv[j];
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 16
    for (int j = 0; j < NV; ++j) store(c + i * ldc + j * L, acc[i][j]);
}

template <typename T, typename V, int MR, int M>
HK_INLINE void batched_gemm(const Problem<T>& pr, const T* v, std::int64_t ntp, T* mo) {
  constexpr int A = M + 2, NV = kNR<T> / (sizeof(V) / sizeof(T));
  const std::int64_t nkb = pr.kp / kNR<T>;
  for (int pos = 0; pos < A * A; ++pos)
    for (std::int64_t kb = 0; kb < nkb; ++kb) {
      const T* panel = pr.u + (pos * nkb + kb) * pr.cp * kNR<T>;
      for (std::int64_t t0 = 0; t0 < ntp; t0 += MR)
        micro_kernel<T, V, MR, NV>(pr.cp, v + (pos * ntp + t0) * pr.cp, pr.cp, 1, panel,
                                   kNR<T>, mo + (pos * ntp + t0) * pr.kp + kb * kNR<T>, pr.kp,
                                   false);
    }
}

// Step 4: yb[(row, col)][:] = (A^T m A) for every tile.
template <typename T, typename V, int M>
HK_INLINE void output_transform(const Problem<T>& pr, const T* mo, std::int64_t nt,
                                std::int64_t ntp, T* yb) {
  constexpr int A = M + 2, L = sizeof(V) / sizeof(T);
  const std::int64_t cols = pr.tw * M;
  for (std::int64_t t = 0; t < nt; ++t) {
    T* base = yb + ((t / pr.tw) * M * cols + (t % pr.tw) * M) * pr.kp;
    for (std::int64_t kv = 0; kv < pr.kp; kv += L) {
      V mm[A * A], out[M * M];
#pragma GCC unroll 8
      for (int pos = 0; pos < A * A; ++pos) mm[pos] = load<V>(mo + (pos * ntp + t) * pr.kp + kv);
      sandwich<T, V, M, A>(Mats<M>::AT, mm, out);
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < M; ++j) store(base + (i * cols + j) * pr.kp + kv, out[i * M + j]);
    }
  }
}

// Step 5: yb (band rows, cols, Kp) -> y (N, K, P, Q) rows of this band, plus bias.
template <typename T, int M>
void scatter_rows(const Problem<T>& pr, const T* yb, std::int64_t ni, std::int64_t th0,
                  std::int64_t nrows) {
  const std::int64_t cols = pr.tw * M;
  const std::int64_t oh0 = th0 * M, oh1 = std::min(pr.p, (th0 + nrows) * M);
  for (std::int64_t k = 0; k < pr.k; ++k) {
    const T b = pr.bias != nullptr ? pr.bias[k] : T(0);
    for (std::int64_t oh = oh0; oh < oh1; ++oh) {
      T* dst = pr.y + ((ni * pr.k + k) * pr.p + oh) * pr.q;
      const T* src = yb + (oh - oh0) * cols * pr.kp + k;
      for (std::int64_t ow = 0; ow < pr.q; ++ow) dst[ow] = src[ow * pr.kp] + b;
    }
  }
}

// ---------------------------------------------------------------- grad_weight
//
// dL/dU[pos] (Cp, Kp) = V[pos]^T @ dM[pos] summed over every tile, with dM = A gy A^T
// (the adjoint of the output transform); then dL/dg = G^T dL/dU G per (k, c).

// dm[pos][t][:] = (A gy A^T)[pos] for every tile t of the band; gb: grad_y rows, channels last.
template <typename T, typename V, int M>
HK_INLINE void grad_output_transform(const Problem<T>& pr, const T* gb, std::int64_t nt,
                                     std::int64_t ntp, T* dm) {
  constexpr int A = M + 2, L = sizeof(V) / sizeof(T);
  const std::int64_t cols = pr.tw * M;
  for (std::int64_t t = 0; t < nt; ++t) {
    const T* base = gb + ((t / pr.tw) * M * cols + (t % pr.tw) * M) * pr.kp;
    for (std::int64_t kv = 0; kv < pr.kp; kv += L) {
      V g[M * M], out[A * A];
#pragma GCC unroll 8
      for (int i = 0; i < M; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < M; ++j) g[i * M + j] = load<V>(base + (i * cols + j) * pr.kp + kv);
      sandwich<T, V, A, M>(Mats<M>::A, g, out);
#pragma GCC unroll 8
      for (int pos = 0; pos < A * A; ++pos) store(dm + (pos * ntp + t) * pr.kp + kv, out[pos]);
    }
  }
  for (int pos = 0; pos < A * A; ++pos)
    std::fill(dm + (pos * ntp + nt) * pr.kp, dm + (pos * ntp + ntp) * pr.kp, T(0));
}

// du[pos] (Cp, Kp) += v[pos]^T (Cp, ntp) @ dm[pos] (ntp, Kp).
template <typename T, typename V, int MR, int M>
HK_INLINE void weight_gemm(const Problem<T>& pr, const T* v, const T* dm, std::int64_t ntp,
                           T* du) {
  constexpr int A = M + 2, NV = kNR<T> / (sizeof(V) / sizeof(T));
  for (int pos = 0; pos < A * A; ++pos)
    for (std::int64_t kb = 0; kb < pr.kp; kb += kNR<T>)
      for (std::int64_t c0 = 0; c0 < pr.cp; c0 += MR)
        micro_kernel<T, V, MR, NV>(ntp, v + pos * ntp * pr.cp + c0, 1, pr.cp,
                                   dm + pos * ntp * pr.kp + kb, pr.kp,
                                   du + (pos * pr.cp + c0) * pr.kp + kb, pr.kp, true);
}

// One band: the forward's five steps, or (GradW) its share of dL/dU added into du.
template <typename T, typename V, int MR, int M, bool GradW>
HK_INLINE void band_impl(const Problem<T>& pr, std::int64_t band, Scratch<T>& s, T* du) {
  constexpr int A = M + 2;
  const std::int64_t ni = band / pr.bands_per_image;
  const std::int64_t th0 = band % pr.bands_per_image * pr.rows;
  const std::int64_t nrows = std::min(pr.rows, pr.th - th0);
  const std::int64_t nt = nrows * pr.tw, ntp = round_up(nt, kRowPad);
  s.xb.resize((nrows * M + 2) * (pr.tw * M + 2) * pr.cp);
  s.v.resize(A * A * ntp * pr.cp);
  s.mo.resize(A * A * ntp * pr.kp);
  s.yb.resize(nrows * M * pr.tw * M * pr.kp);
  gather_strip<T, M>(pr, ni, th0, nrows, s.xb.data());
  input_transform<T, V, M>(pr, s.xb.data(), nt, ntp, s.v.data());
  if constexpr (GradW) {
    to_channels_last(pr.gy + ni * pr.k * pr.p * pr.q, pr.k, pr.p, pr.q, th0 * M, 0, nrows * M,
                     pr.tw * M, pr.kp, s.yb.data());
    grad_output_transform<T, V, M>(pr, s.yb.data(), nt, ntp, s.mo.data());
    weight_gemm<T, V, MR, M>(pr, s.v.data(), s.mo.data(), ntp, du);
  } else {
    batched_gemm<T, V, MR, M>(pr, s.v.data(), ntp, s.mo.data());
    output_transform<T, V, M>(pr, s.mo.data(), nt, ntp, s.yb.data());
    scatter_rows<T, M>(pr, s.yb.data(), ni, th0, nrows);
  }
}

#if defined(__GNUC__)
// aligned(sizeof element): loads and stores through these types may be unaligned.
typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef float v8f __attribute__((vector_size(32), aligned(4)));
typedef float v4f __attribute__((vector_size(16), aligned(4)));
typedef double v8d __attribute__((vector_size(64), aligned(8)));
typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef double v2d __attribute__((vector_size(16), aligned(8)));
template <typename T>
struct Vec;  // the SIMD vector types of each width for T
template <>
struct Vec<float> {
  typedef v16f w512;
  typedef v8f w256;
  typedef v4f w128;
};
template <>
struct Vec<double> {
  typedef v8d w512;
  typedef v4d w256;
  typedef v2d w128;
};
#else
template <typename T>
struct Vec {
  typedef T w128;
};
#endif

template <typename T>
using BandFn = void (*)(const Problem<T>&, std::int64_t, Scratch<T>&, T*);

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HK_X86 1
// MR x 2 vectors of 512 bits: 16 accumulators of the 32 registers.
template <typename T, int M, bool GradW>
__attribute__((target("avx512f,fma"))) void band_avx512(const Problem<T>& pr, std::int64_t b,
                                                        Scratch<T>& s, T* du) {
  band_impl<T, typename Vec<T>::w512, 8, M, GradW>(pr, b, s, du);
}
template <typename T, int M, bool GradW>
__attribute__((target("avx2,fma"))) void band_avx2(const Problem<T>& pr, std::int64_t b,
                                                   Scratch<T>& s, T* du) {
  band_impl<T, typename Vec<T>::w256, 2, M, GradW>(pr, b, s, du);
}
#endif
template <typename T, int M, bool GradW>
void band_base(const Problem<T>& pr, std::int64_t b, Scratch<T>& s, T* du) {
  band_impl<T, typename Vec<T>::w128, 1, M, GradW>(pr, b, s, du);
}

// isa: "auto" (the widest path this CPU runs), or "avx512", "avx2" or "base" to run
// that one (the tests do, so every compiled path is checked on one machine).
template <typename T, int M, bool GradW>
BandFn<T> pick(const std::string& isa) {
  const bool any = isa == "auto";
#ifdef HK_X86
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if ((any && avx512) || (isa == "avx512" && avx512)) return band_avx512<T, M, GradW>;
  if ((any && avx2) || (isa == "avx2" && avx2)) return band_avx2<T, M, GradW>;
#endif
  if (any || isa == "base") return band_base<T, M, GradW>;
  throw std::invalid_argument("winograd: isa must be 'auto', 'base' or a SIMD path this CPU "
                              "runs ('avx512', 'avx2'), got '" + isa + "'");
}

// Tile rows per band. A band's V and M (36 * tiles * (Cp + Kp) values) should stay in
// a 2 MB L2, so at most 64 tiles; at least ~32 keep the GEMMs long; the tiles should
// fill the 8-row GEMM blocks (14 tiles per row: 4 rows, 56 tiles, none padded); and
// every thread should get two bands or more.
std::int64_t rows_per_band(std::int64_t n, std::int64_t th, std::int64_t tw, int threads) {
  std::int64_t best = 1;
  double best_score = -1;
  for (std::int64_t r = 1; r <= th; ++r) {
    const std::int64_t nt = r * tw;
    if (r > 1 && (nt > 64 || n * ((th + r - 1) / r) < 2 * threads)) break;
    const double fill = static_cast<double>(nt) / round_up(nt, kRowPad);
    const double score = fill * std::min(1.0, nt / 32.0);
    if (score > best_score + 1e-9) best = r, best_score = score;
  }
  return best;
}

// Fills in the tiling of pr; returns the threads to use.
template <typename T, int M>
int plan(Problem<T>& pr) {
  // Same threshold as conv2d.cpp's threads_for: below ~64 MFLOP of direct convolution
  // a parallel region on the shared machine costs more than it saves.
  const double flops = 2.0 * pr.n * pr.k * pr.c * 9 * pr.p * pr.q;
  const int threads = flops < 6.4e7 ? 1 : num_threads();
  pr.tw = (pr.q + M - 1) / M;
  pr.th = (pr.p + M - 1) / M;
  pr.rows = rows_per_band(pr.n, pr.th, pr.tw, threads);
  pr.bands_per_image = (pr.th + pr.rows - 1) / pr.rows;
  return threads;
}

template <typename T, int M>
void forward_impl(Problem<T> pr, const std::string& isa) {
  const BandFn<T> band = pick<T, M, false>(isa);
  const int threads = plan<T, M>(pr);
  const std::int64_t bands = pr.n * pr.bands_per_image;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
  for (std::int64_t b = 0; b < bands; ++b) {
    thread_local Scratch<T> scratch;  // reused across calls
    band(pr, b, scratch, nullptr);
  }
}

// gw[k][c] = G^T dU[:, :, c, k] G, dU the sum of the threads' copies (each usize long).
template <typename T, int M>
void filter_gradient(const T* du, int copies, std::int64_t usize, const Problem<T>& pr, T* gw) {
  using Mt = Mats<M>;
  constexpr int A = M + 2;
#pragma omp parallel for schedule(static) if (pr.k * pr.c > 4096)
  for (std::int64_t k = 0; k < pr.k; ++k)
    for (std::int64_t c = 0; c < pr.c; ++c) {
      double d[A][A], t[3][A];
      for (int a = 0; a < A; ++a)
        for (int b = 0; b < A; ++b) {
          double sum = 0;
          const T* at = du + ((a * A + b) * pr.cp + c) * pr.kp + k;
          for (int i = 0; i < copies; ++i) sum += at[i * usize];
          d[a][b] = sum;
        }
      for (int r = 0; r < 3; ++r)
        for (int b = 0; b < A; ++b) {
          t[r][b] = 0;
          for (int a = 0; a < A; ++a) t[r][b] += Mt::G[a][r] * d[a][b];
        }
      for (int r = 0; r < 3; ++r)
        for (int s = 0; s < 3; ++s) {
          double v = 0;
          for (int b = 0; b < A; ++b) v += t[r][b] * Mt::G[b][s];
          gw[((k * pr.c + c) * 3 + r) * 3 + s] = static_cast<T>(v);
        }
    }
}

template <typename T, int M>
void grad_weight_impl(Problem<T> pr, T* gw, const std::string& isa) {
  const BandFn<T> band = pick<T, M, true>(isa);
  const int threads = plan<T, M>(pr);
  const std::int64_t bands = pr.n * pr.bands_per_image;
  const std::int64_t usize = (M + 2) * (M + 2) * pr.cp * pr.kp;
  // subtle: every band adds into dL/dU, so each thread sums into its own copy and the
  // copies are added up at the end (no races).
  std::vector<T> du(threads * usize, T(0));
#pragma omp parallel num_threads(threads)
  {
#ifdef HUBKIT_OPENMP
    T* mine = du.data() + omp_get_thread_num() * usize;
#else
    T* mine = du.data();
#endif
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t b = 0; b < bands; ++b) {
      thread_local Scratch<T> scratch;
      band(pr, b, scratch, mine);
    }
  }
  filter_gradient<T, M>(du.data(), threads, usize, pr, gw);
}

template <typename T>
Problem<T> problem(std::uintptr_t x, std::uintptr_t u, std::uintptr_t bias, std::uintptr_t y,
                   const std::vector<std::int64_t>& d) {
  if (d.size() != 9) throw std::invalid_argument("winograd: dims must hold 9 integers");
  return {as_ptr<const T>(x), as_ptr<const T>(u), as_ptr<const T>(bias), as_ptr<T>(y),
          d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8],
          0, 0, 0, 0, round_up(d[1], kCB<T>), round_up(d[4], kNR<T>)};
}

template <typename T>
void forward_typed(std::uintptr_t x, std::uintptr_t u, std::uintptr_t bias, std::uintptr_t y,
                   const std::vector<std::int64_t>& d, int m, const std::string& isa) {
  const Problem<T> pr = problem<T>(x, u, bias, y, d);
  if (m == 2) return forward_impl<T, 2>(pr, isa);
  if (m == 4) return forward_impl<T, 4>(pr, isa);
  throw std::invalid_argument("winograd: m must be 2 or 4");
}

template <typename T>
void grad_weight_typed(std::uintptr_t x, std::uintptr_t gy, std::uintptr_t gw,
                       const std::vector<std::int64_t>& d, int m, const std::string& isa) {
  Problem<T> pr = problem<T>(x, 0, 0, 0, d);
  pr.gy = as_ptr<const T>(gy);
  if (m == 2) return grad_weight_impl<T, 2>(pr, as_ptr<T>(gw), isa);
  if (m == 4) return grad_weight_impl<T, 4>(pr, as_ptr<T>(gw), isa);
  throw std::invalid_argument("winograd: m must be 2 or 4");
}

template <typename T>
void filter_typed(std::uintptr_t w, std::uintptr_t u, std::int64_t ko, std::int64_t ci,
                  bool flip, int m) {
  if (m == 2) return filter_impl<T, 2>(as_ptr<const T>(w), as_ptr<T>(u), ko, ci, flip);
  if (m == 4) return filter_impl<T, 4>(as_ptr<const T>(w), as_ptr<T>(u), ko, ci, flip);
  throw std::invalid_argument("winograd: m must be 2 or 4");
}

}  // namespace

std::int64_t filter_size(std::int64_t k_out, std::int64_t c_in, int m, int dtype) {
  const std::int64_t a2 = (m + 2) * (m + 2);
  switch (to_dtype(dtype)) {
    case DType::f32: return a2 * round_up(k_out, kNR<float>) * round_up(c_in, kCB<float>);
    case DType::f64: return a2 * round_up(k_out, kNR<double>) * round_up(c_in, kCB<double>);
    default: throw std::invalid_argument("winograd: dtype must be float32 or float64");
  }
}

void filter_transform(std::uintptr_t w, std::uintptr_t u, std::int64_t k, std::int64_t c,
                      bool flip, int m, int dtype) {
  const std::int64_t ko = flip ? c : k, ci = flip ? k : c;
  switch (to_dtype(dtype)) {
    case DType::f32: return filter_typed<float>(w, u, ko, ci, flip, m);
    case DType::f64: return filter_typed<double>(w, u, ko, ci, flip, m);
    default: throw std::invalid_argument("winograd: dtype must be float32 or float64");
  }
}

void forward(std::uintptr_t x, std::uintptr_t u, std::uintptr_t bias, std::uintptr_t y,
             const std::vector<std::int64_t>& dims, int m, int dtype, const std::string& isa) {
  switch (to_dtype(dtype)) {
    case DType::f32: return forward_typed<float>(x, u, bias, y, dims, m, isa);
    case DType::f64: return forward_typed<double>(x, u, bias, y, dims, m, isa);
    default: throw std::invalid_argument("winograd: dtype must be float32 or float64");
  }
}

void grad_weight(std::uintptr_t x, std::uintptr_t grad_y, std::uintptr_t grad_w,
                 const std::vector<std::int64_t>& dims, int m, int dtype,
                 const std::string& isa) {
  switch (to_dtype(dtype)) {
    case DType::f32: return grad_weight_typed<float>(x, grad_y, grad_w, dims, m, isa);
    case DType::f64: return grad_weight_typed<double>(x, grad_y, grad_w, dims, m, isa);
    default: throw std::invalid_argument("winograd: dtype must be float32 or float64");
  }
}

void bind_winograd(pybind11::module_& m) {
  namespace py = pybind11;
  using release_gil = py::call_guard<py::gil_scoped_release>;
  m.def("winograd_filter_size", &filter_size, py::arg("k_out"), py::arg("c_in"), py::arg("m"),
        py::arg("dtype"), "elements of the packed Winograd filter transform");
  m.def("winograd_filter_transform", &filter_transform, release_gil(), py::arg("weight"),
        py::arg("out"), py::arg("K"), py::arg("C"), py::arg("flip"), py::arg("m"),
        py::arg("dtype"), "weight (K, C, 3, 3) -> packed U (flip: for the input gradient)");
  m.def("winograd_forward", &forward, release_gil(), py::arg("x"), py::arg("u"),
        py::arg("bias"), py::arg("out"), py::arg("dims"), py::arg("m"), py::arg("dtype"),
        py::arg("isa") = "auto",
        "F(m x m, 3 x 3) convolution; dims: N, C, H, W, K, P, Q, pad_h, pad_w");
  m.def("winograd_grad_weight", &grad_weight, release_gil(), py::arg("x"), py::arg("grad_y"),
        py::arg("grad_w"), py::arg("dims"), py::arg("m"), py::arg("dtype"),
        py::arg("isa") = "auto",
        "grad_w (K, C, 3, 3) of winograd_forward, reduced in the Winograd domain");
}

}  // namespace hubkit::winograd
