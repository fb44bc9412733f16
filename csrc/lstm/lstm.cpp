// The recurrent part of a whole LSTM layer on the CPU: a loop whose step is fused
// (matmul with h_{t-1}, gate math, state update in one pass over the weights).
// The whole-sequence GEMMs around it (the input projection x W_ih^T + bias before,
// and grad_x, grad_W_ih, grad_W_hh, grad_bias after) are done by the caller
// (python/hubkit/rnn/ops.py) with torch's BLAS, which beats hubkit::gemm on these
// tall-skinny shapes (~1.6x for (T*B, 256) @ (256, 1024), 2 threads).
//
// Forward. saved's gate slots come in holding x W_ih^T for all T*B rows
// (the caller's GEMM writes them there: no separate gates buffer). Then one
// OpenMP team lives for the whole sequence: thread t owns a slice of hidden units
// and, at every step, computes the 4 gate rows of those units against h_{t-1},
// applies sigmoid/tanh and writes c_t and h_t for them. Its slice of W_hh, packed
// once as [unit block][k][gate][unit in block], stays in that core's cache for all
// T steps; the team meets at one barrier per step (h_t must be complete before
// step t+1 reads it).
//
// Backward (BPTT). Per step, phase A (each thread, its own units): gate gradients
// dz and the carried dc; barrier; phase B (same units as columns): dh_{t-1} =
// dz W_hh. The loop writes dZ (T*B, 4H) for the caller's GEMMs over all steps:
// grad_x = dZ W_ih, grad_W_ih = dZ^T x, grad_W_hh = dZ^T [h0; y[:-1]].
#include "lstm/lstm.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "common.h"
#include "vector_math.h"

#define HK_ALWAYS_INLINE inline __attribute__((always_inline))
#define HK_ALWAYS_INLINE_LAMBDA __attribute__((always_inline))

namespace hubkit {
namespace {

template <typename T>
constexpr int kJB = 32 / sizeof(T);  // units per block: one AVX2 vector (8 f32, 4 f64)
template <typename T>
constexpr int kKB = 128 / sizeof(T);  // dh columns per block in the backward

template <typename T>
HK_ALWAYS_INLINE T sigmoid(T z) { return T(1) / (T(1) + vmath::exp(-z)); }
// subtle: tanh(z) = 2 sigmoid(2z) - 1 keeps the loop on the vectorized exp; the
// absolute error stays at a few ulps of 1, which is what the outputs need.
template <typename T>
HK_ALWAYS_INLINE T tanh_(T z) { return T(2) / (T(1) + vmath::exp(T(-2) * z)) - T(1); }

// One team for the whole sequence only when a step has enough work to pay a barrier.
int team_size(std::int64_t step_work, std::int64_t parts) {
  if (step_work < 65536) return 1;
  return static_cast<int>(std::clamp<std::int64_t>(num_threads(), 1, parts));
}

struct Dims {
  std::int64_t T, B, I, H;
  std::int64_t blocks(int jb) const { return (H + jb - 1) / jb; }
};

// W_hh (4H, H) -> [block][k][gate][l] with zero rows past H: a block's 4 gate rows
// for one k are contiguous, so the step reads them as 4*JB consecutive values.
template <typename T>
std::vector<T> pack_recurrent(const T* w_hh, std::int64_t H) {
  constexpr int JB = kJB<T>;
  const std::int64_t nb = (H + JB - 1) / JB;
  std::vector<T> wp(nb * H * 4 * JB, T(0));
  for (std::int64_t blk = 0; blk < nb; ++blk)
    for (std::int64_t k = 0; k < H; ++k)
      for (int q = 0; q < 4; ++q)
        for (int l = 0; l < JB && blk * JB + l < H; ++l)
          wp[((blk * H + k) * 4 + q) * JB + l] = w_hh[(q * H + blk * JB + l) * H + k];
  return wp;
}

// Step t for one block of units and NB batch rows: the pre-activations
// z = gates_x + h_{t-1} W_hh^T, written to saved's gate slots.
template <typename T, int NB>
HK_ALWAYS_INLINE void forward_block(const T* wp, const T* const* h_prev, const T* const* gx,
                                    const T* bias, T* const* sv, std::int64_t H,
                                    std::int64_t j0, int n) {
  constexpr int JB = kJB<T>;
  T acc[NB][4 * JB];
  for (int r = 0; r < NB; ++r)
    for (int m = 0; m < 4 * JB; ++m) acc[r][m] = T(0);
  for (std::int64_t k = 0; k < H; ++k) {
    const T* w = wp + k * 4 * JB;
    for (int r = 0; r < NB; ++r) {
      const T hv = h_prev[r][k];
#pragma omp simd
      for (int m = 0; m < 4 * JB; ++m) acc[r][m] += hv * w[m];
    }
  }
  // subtle: only the pre-activations are stored here; the gate math runs afterwards
  // over each row's whole unit slice (cell_update), a long loop that vectorizes at
  // the full SIMD width instead of JB lanes with remainders.
  for (int r = 0; r < NB; ++r)
    for (int q = 0; q < 4; ++q)
#pragma omp simd
      for (int l = 0; l < n; ++l)
        sv[r][q * H + j0 + l] = acc[r][q * JB + l] + gx[r][q * H + j0 + l] + bias[q * H + j0 + l];
}

#if HUBKIT_VECTOR_ABI
// aligned(sizeof element): loads through these types may be unaligned.
typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef double v8d __attribute__((vector_size(64), aligned(8)));

// forward_block with explicit 64-byte vectors, for the AVX-512 path: a block's 4 gate
// rows at one k are two vectors, loaded once and fed to NB batch rows (2*NB
// accumulators in registers; one broadcast of h per row). The auto-vectorized
// forward_block leaves the compiler to keep the weights in registers, and GCC
// reloads them from the stack for every row instead (twice the loads per FMA).
//
// subtle: with one or two rows there would be only 2 or 4 accumulators, and each FMA
// would wait for the previous one into the same register (4 cycles of latency): the
// k loop is split into KS interleaved partial sums, so 8 FMAs are always in flight.
template <typename T, typename V, int NB>
HK_ALWAYS_INLINE void forward_block_v(const T* wp, const T* const* h_prev, const T* const* gx,
                                      const T* bias, T* const* sv, std::int64_t H,
                                      std::int64_t j0, int n) {
  constexpr int JB = kJB<T>, L = sizeof(V) / sizeof(T), NV = 4 * JB / L;
  constexpr int KS = NB >= 4 ? 1 : 4 / NB;
  V acc[KS][NB][NV];
#pragma GCC unroll 4
  for (int s = 0; s < KS; ++s)
#pragma GCC unroll 16
    for (int r = 0; r < NB; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[s][r][v] = V{};
  auto rank1 = [&](std::int64_t k, int s) HK_ALWAYS_INLINE_LAMBDA {
    V w[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) std::memcpy(&w[v], wp + (k * NV + v) * L, sizeof(V));
#pragma GCC unroll 16
    for (int r = 0; r < NB; ++r) {
      const T hv = h_prev[r][k];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[s][r][v] += hv * w[v];
    }
  };
  std::int64_t k = 0;
  for (; k + KS <= H; k += KS)
#pragma GCC unroll 4
    for (int s = 0; s < KS; ++s) rank1(k + s, s);
  for (; k < H; ++k) rank1(k, 0);
#pragma GCC unroll 4
  for (int s = 1; s < KS; ++s)
#pragma GCC unroll 16
    for (int r = 0; r < NB; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[0][r][v] += acc[s][r][v];
  T z[NB][4 * JB];
  std::memcpy(z, acc[0], sizeof(z));
  for (int r = 0; r < NB; ++r)
    for (int q = 0; q < 4; ++q)
#pragma omp simd
      for (int l = 0; l < n; ++l)
        sv[r][q * H + j0 + l] = z[r][q * JB + l] + gx[r][q * H + j0 + l] + bias[q * H + j0 + l];
}
#endif

// Gate math and state update of units [u0, u1) for one row of step t: saved holds
// the pre-activations z (i, f, g, o) and gets the activated gates and c_t.
template <typename T>
HK_ALWAYS_INLINE void cell_update(const Dims& d, std::int64_t t, std::int64_t b,
                                  std::int64_t u0, std::int64_t u1, const T* c0, T* y,
                                  T* saved) {
  const std::int64_t H = d.H, row = t * d.B + b;
  const T* cp = t ? saved + (row - d.B) * 5 * H + 4 * H : c0 + b * H;
  T* s = saved + row * 5 * H;
  T* h = y + row * H;
#pragma omp simd
  for (std::int64_t j = u0; j < u1; ++j) {
    const T i = sigmoid(s[j]), f = sigmoid(s[H + j]), gg = tanh_(s[2 * H + j]);
    const T o = sigmoid(s[3 * H + j]);
    const T c = f * cp[j] + i * gg;
    s[j] = i, s[H + j] = f, s[2 * H + j] = gg, s[3 * H + j] = o, s[4 * H + j] = c;
    h[j] = o * tanh_(c);
  }
}

// Rows b0 .. b0+NB-1 of step t, for one block; V is void for the auto-vectorized
// kernel, or the vector type of forward_block_v.
template <typename T, typename V, int NB>
HK_ALWAYS_INLINE void forward_rows(const Dims& d, std::int64_t t, std::int64_t b0,
                                   std::int64_t blk, const T* wp, const T* bias,
                                   const T* h0, const T* y, T* saved) {
  constexpr int JB = kJB<T>;
  const std::int64_t H = d.H, j0 = blk * JB;
  const T *hp[NB], *gx[NB];
  T* so[NB];
  for (int r = 0; r < NB; ++r) {
    const std::int64_t b = b0 + r, row = t * d.B + b;
    hp[r] = t ? y + (row - d.B) * H : h0 + b * H;
    gx[r] = saved + row * 5 * H;  // x W_ih^T, overwritten in place
    so[r] = saved + row * 5 * H;
  }
  const int n = static_cast<int>(std::min<std::int64_t>(JB, H - j0));
  if constexpr (std::is_void_v<V>) {
    forward_block<T, NB>(wp + blk * H * 4 * JB, hp, gx, bias, so, H, j0, n);
  } else {
#if HUBKIT_VECTOR_ABI
    forward_block_v<T, V, NB>(wp + blk * H * 4 * JB, hp, gx, bias, so, H, j0, n);
#endif
  }
}

// Step t for this thread's unit blocks [lo, hi): pre-activations of all batch rows,
// up to 8 at a time, then the gate math over the slice row by row.
template <typename T, typename V = void>
HK_ALWAYS_INLINE void forward_slice(const Dims& d, std::int64_t t, std::int64_t lo,
                                    std::int64_t hi, const T* wp, const T* bias, const T* h0,
                                    const T* c0, T* y, T* saved) {
  for (std::int64_t blk = lo; blk < hi; ++blk) {
    // subtle: more rows per pass reuse each loaded weight vector more times. With
    // explicit vectors, 12 rows are 24 AVX-512 accumulators + 2 weight vectors + 1
    // broadcast of 32 registers; the auto-vectorized kernel stops at 8 (its AVX2
    // clone spills some even so).
    std::int64_t b = 0;
    if constexpr (!std::is_void_v<V>)
      for (; b + 12 <= d.B; b += 12) forward_rows<T, V, 12>(d, t, b, blk, wp, bias, h0, y, saved);
    for (; b + 8 <= d.B; b += 8) forward_rows<T, V, 8>(d, t, b, blk, wp, bias, h0, y, saved);
    for (; b + 4 <= d.B; b += 4) forward_rows<T, V, 4>(d, t, b, blk, wp, bias, h0, y, saved);
    for (; b + 2 <= d.B; b += 2) forward_rows<T, V, 2>(d, t, b, blk, wp, bias, h0, y, saved);
    if (b < d.B) forward_rows<T, V, 1>(d, t, b, blk, wp, bias, h0, y, saved);
  }
  const std::int64_t u0 = lo * kJB<T>, u1 = std::min(hi * kJB<T>, d.H);
  for (std::int64_t b = 0; b < d.B; ++b) cell_update(d, t, b, u0, u1, c0, y, saved);
}

// subtle: the hot loops live in these multiversioned functions and everything they
// call is always_inline, so each clone (AVX-512, AVX2, baseline) has its own copy;
// the OpenMP region stays outside them.
HUBKIT_MULTIVERSION void forward_step(const Dims& d, std::int64_t t, std::int64_t lo,
                                      std::int64_t hi, const float* wp, const float* bias,
                                      const float* h0, const float* c0, float* y, float* s) {
  forward_slice(d, t, lo, hi, wp, bias, h0, c0, y, s);
}
HUBKIT_MULTIVERSION void forward_step(const Dims& d, std::int64_t t, std::int64_t lo,
                                      std::int64_t hi, const double* wp, const double* bias,
                                      const double* h0, const double* c0, double* y,
                                      double* s) {
  forward_slice(d, t, lo, hi, wp, bias, h0, c0, y, s);
}

#if HUBKIT_VECTOR_ABI
__attribute__((target("avx512f,fma"))) void forward_step_avx512(
    const Dims& d, std::int64_t t, std::int64_t lo, std::int64_t hi, const float* wp,
    const float* bias, const float* h0, const float* c0, float* y, float* s) {
  forward_slice<float, v16f>(d, t, lo, hi, wp, bias, h0, c0, y, s);
}
__attribute__((target("avx512f,fma"))) void forward_step_avx512(
    const Dims& d, std::int64_t t, std::int64_t lo, std::int64_t hi, const double* wp,
    const double* bias, const double* h0, const double* c0, double* y, double* s) {
  forward_slice<double, v8d>(d, t, lo, hi, wp, bias, h0, c0, y, s);
}
#endif

// The step kernel for this CPU: explicit AVX-512 vectors where the CPU has them,
// else the multiversioned auto-vectorized one (AVX2 or baseline).
template <typename T>
auto pick_forward_step() {
  using Step = void (*)(const Dims&, std::int64_t, std::int64_t, std::int64_t, const T*,
                        const T*, const T*, const T*, T*, T*);
#if HUBKIT_VECTOR_ABI
  if (__builtin_cpu_supports("avx512f")) return static_cast<Step>(forward_step_avx512);
#endif
  return static_cast<Step>(forward_step);
}

// Run fn(lo, hi) for each step, on nt threads that each own parts [lo, hi) of `parts`,
// with one barrier after each call: the whole sequence in one OpenMP region.
template <typename Fn>
void team_loop(std::int64_t parts, int nt, Fn fn) {
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
#ifdef HUBKIT_OPENMP
    const int me = omp_get_thread_num(), team = omp_get_num_threads();
#else
    const int me = 0, team = 1;
#endif
    fn(parts * me / team, parts * (me + 1) / team);
  }
}

template <typename T>
void forward_team(const Dims& d, const T* wp, const T* bias, const T* h0, const T* c0, T* y,
                  T* saved, int nt) {
  const auto step = pick_forward_step<T>();
  team_loop(d.blocks(kJB<T>), nt, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t t = 0; t < d.T; ++t) {
      step(d, t, lo, hi, wp, bias, h0, c0, y, saved);
#pragma omp barrier
    }
  });
}

// subtle: the bias is added here, not by the caller's GEMM: addmm would first copy the
// bias into all T*B rows and then accumulate onto them, one more pass over (T*B, 4H).
template <typename T>
void forward(const T* bias, const T* h0, const T* c0, const T* w_hh, T* y, T* saved,
             const Dims& d) {
  const std::vector<T> wp = pack_recurrent(w_hh, d.H);
  std::vector<T> bias_row(4 * d.H, T(0));
  if (bias) std::copy(bias, bias + 4 * d.H, bias_row.begin());
  const int nt = team_size(4 * d.H * d.H * d.B, d.blocks(kJB<T>));
  forward_team(d, wp.data(), bias_row.data(), h0, c0, y, saved, nt);
}

// -- backward ---------------------------------------------------------------------

// Phase A for units [u0, u1) of step t: dz (4 gates) and the carried dc.
template <typename T>
HK_ALWAYS_INLINE void gate_grads(const Dims& d, std::int64_t t, std::int64_t u0,
                                 std::int64_t u1, const T* gy, const T* c0, const T* saved,
                                 const T* dh, T* dc, T* dz) {
  const std::int64_t H = d.H;
  for (std::int64_t b = 0; b < d.B; ++b) {
    const std::int64_t row = t * d.B + b;
    const T* s = saved + row * 5 * H;
    const T* cp = t ? saved + (row - d.B) * 5 * H + 4 * H : c0 + b * H;
    const T* g = gy + row * H;
    T* z = dz + row * 4 * H;
    const T* dhb = dh + b * H;
    T* dcb = dc + b * H;
#pragma omp simd
    for (std::int64_t j = u0; j < u1; ++j) {
      const T i = s[j], f = s[H + j], gg = s[2 * H + j], o = s[3 * H + j];
      const T tc = tanh_(s[4 * H + j]);
      const T dht = dhb[j] + g[j];
      const T dct = dcb[j] + dht * o * (T(1) - tc * tc);
      z[j] = dct * gg * i * (T(1) - i);
      z[H + j] = dct * cp[j] * f * (T(1) - f);
      z[2 * H + j] = dct * i * (T(1) - gg * gg);
      z[3 * H + j] = dht * tc * o * (T(1) - o);
      dcb[j] = dct * f;
    }
  }
}

// Phase B: dh[b, k0 .. k0+KB) = dz[b, :] @ W_hh[:, k0 .. k0+KB) for NB batch rows
// from b0; wb is W_hh with rows padded to a multiple of KB columns.
template <typename T, int NB>
HK_ALWAYS_INLINE void hidden_rows(const Dims& d, std::int64_t t, std::int64_t b0,
                                  std::int64_t k0, int n, const T* wb, std::int64_t ld,
                                  const T* dz, T* dh) {
  constexpr int KB = kKB<T>;
  const std::int64_t G = 4 * d.H;
  const T* z = dz + (t * d.B + b0) * G;
  T acc[NB][KB];
  for (int r = 0; r < NB; ++r)
    for (int l = 0; l < KB; ++l) acc[r][l] = T(0);
  for (std::int64_t j = 0; j < G; ++j) {
    const T* w = wb + j * ld + k0;
    for (int r = 0; r < NB; ++r) {
      const T zj = z[r * G + j];
#pragma omp simd
      for (int l = 0; l < KB; ++l) acc[r][l] += zj * w[l];
    }
  }
  for (int r = 0; r < NB; ++r)
    for (int l = 0; l < n; ++l) dh[(b0 + r) * d.H + k0 + l] = acc[r][l];
}

// Phase B for one block of KB columns, all batch rows, four at a time (each loaded
// W_hh vector feeds four rows).
template <typename T>
HK_ALWAYS_INLINE void hidden_grads(const Dims& d, std::int64_t t, std::int64_t k0, int n,
                                   const T* wb, std::int64_t ld, const T* dz, T* dh) {
  std::int64_t b = 0;
  for (; b + 4 <= d.B; b += 4) hidden_rows<T, 4>(d, t, b, k0, n, wb, ld, dz, dh);
  for (; b < d.B; ++b) hidden_rows<T, 1>(d, t, b, k0, n, wb, ld, dz, dh);
}

template <typename T>
HK_ALWAYS_INLINE void backward_slice(const Dims& d, std::int64_t t, std::int64_t lo,
                                     std::int64_t hi, const T* wb, std::int64_t ld, T* dh,
                                     T* dz) {
  constexpr int KB = kKB<T>;
  for (std::int64_t blk = lo; blk < hi; ++blk)
    hidden_grads(d, t, blk * KB, static_cast<int>(std::min<std::int64_t>(KB, d.H - blk * KB)),
                 wb, ld, dz, dh);
}

HUBKIT_MULTIVERSION void gate_step(const Dims& d, std::int64_t t, std::int64_t u0,
                                   std::int64_t u1, const float* gy, const float* c0,
                                   const float* s, const float* dh, float* dc, float* dz) {
  gate_grads(d, t, u0, u1, gy, c0, s, dh, dc, dz);
}
HUBKIT_MULTIVERSION void gate_step(const Dims& d, std::int64_t t, std::int64_t u0,
                                   std::int64_t u1, const double* gy, const double* c0,
                                   const double* s, const double* dh, double* dc, double* dz) {
  gate_grads(d, t, u0, u1, gy, c0, s, dh, dc, dz);
}
HUBKIT_MULTIVERSION void hidden_step(const Dims& d, std::int64_t t, std::int64_t lo,
                                     std::int64_t hi, const float* wb, std::int64_t ld,
                                     float* dh, float* dz) {
  backward_slice(d, t, lo, hi, wb, ld, dh, dz);
}
HUBKIT_MULTIVERSION void hidden_step(const Dims& d, std::int64_t t, std::int64_t lo,
                                     std::int64_t hi, const double* wb, std::int64_t ld,
                                     double* dh, double* dz) {
  backward_slice(d, t, lo, hi, wb, ld, dh, dz);
}

template <typename T>
void backward_team(const Dims& d, const T* gy, const T* c0, const T* saved, const T* wb,
                   std::int64_t ld, T* dh, T* dc, T* dz, int nt) {
  constexpr int KB = kKB<T>;
  team_loop((d.H + KB - 1) / KB, nt, [&](std::int64_t lo, std::int64_t hi) {
    const std::int64_t u0 = lo * KB, u1 = std::min(hi * KB, d.H);
    for (std::int64_t t = d.T - 1; t >= 0; --t) {
      gate_step(d, t, u0, u1, gy, c0, saved, dh, dc, dz);
#pragma omp barrier
      hidden_step(d, t, lo, hi, wb, ld, dh, dz);
      // subtle: no second barrier: the next phase A reads only this thread's dh columns
      // and writes dz of step t-1, which no thread is reading now.
    }
  });
}

template <typename T>
void backward(const T* gy, const T* ghn, const T* gcn, const T* c0, const T* w_hh,
              const T* saved, T* dz, T* dh, T* dc, const Dims& d) {
  constexpr int KB = kKB<T>;
  const std::int64_t G = 4 * d.H, ld = (d.H + KB - 1) / KB * KB;
  std::vector<T> wb(G * ld, T(0));  // W_hh with each row padded to ld columns
  for (std::int64_t j = 0; j < G; ++j) std::copy(w_hh + j * d.H, w_hh + (j + 1) * d.H, &wb[j * ld]);
  std::copy(ghn, ghn + d.B * d.H, dh);
  std::copy(gcn, gcn + d.B * d.H, dc);
  const int nt = team_size(G * d.H * d.B, (d.H + KB - 1) / KB);
  backward_team(d, gy, c0, saved, wb.data(), ld, dh, dc, dz, nt);
}

}  // namespace

void lstm_forward_cpu(std::uintptr_t bias, std::uintptr_t h0, std::uintptr_t c0,
                      std::uintptr_t w_hh, std::uintptr_t y, std::uintptr_t saved,
                      std::int64_t T, std::int64_t B, std::int64_t H, int dtype) {
  const Dims d{T, B, 0, H};
  switch (to_dtype(dtype)) {
    case DType::f32:
      return forward(as_ptr<const float>(bias), as_ptr<const float>(h0),
                     as_ptr<const float>(c0), as_ptr<const float>(w_hh), as_ptr<float>(y),
                     as_ptr<float>(saved), d);
    case DType::f64:
      return forward(as_ptr<const double>(bias), as_ptr<const double>(h0),
                     as_ptr<const double>(c0), as_ptr<const double>(w_hh), as_ptr<double>(y),
                     as_ptr<double>(saved), d);
    default:
      throw std::invalid_argument("lstm (cpp): dtype must be float32 or float64");
  }
}

void lstm_backward_cpu(std::uintptr_t grad_y, std::uintptr_t grad_hn, std::uintptr_t grad_cn,
                       std::uintptr_t c0, std::uintptr_t w_hh, std::uintptr_t saved,
                       std::uintptr_t dz, std::uintptr_t grad_h0, std::uintptr_t grad_c0,
                       std::int64_t T, std::int64_t B, std::int64_t H, int dtype) {
  const Dims d{T, B, 0, H};
  switch (to_dtype(dtype)) {
    case DType::f32:
      return backward(as_ptr<const float>(grad_y), as_ptr<const float>(grad_hn),
                      as_ptr<const float>(grad_cn), as_ptr<const float>(c0),
                      as_ptr<const float>(w_hh), as_ptr<const float>(saved), as_ptr<float>(dz),
                      as_ptr<float>(grad_h0), as_ptr<float>(grad_c0), d);
    case DType::f64:
      return backward(as_ptr<const double>(grad_y), as_ptr<const double>(grad_hn),
                      as_ptr<const double>(grad_cn), as_ptr<const double>(c0),
                      as_ptr<const double>(w_hh), as_ptr<const double>(saved),
                      as_ptr<double>(dz), as_ptr<double>(grad_h0), as_ptr<double>(grad_c0), d);
    default:
      throw std::invalid_argument("lstm (cpp): dtype must be float32 or float64");
  }
}

}  // namespace hubkit
