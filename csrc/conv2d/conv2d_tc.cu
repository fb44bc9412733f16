// conv2d on tensor cores: implicit GEMM with WMMA and cp.async buffering, three stages deep.
//
// Two kernels: the forward (also grad_x of a stride-1 conv, which Python phrases as a
// forward of grad_y with flipped filters) and grad_weight (further down). Both are
// conv2d.cu's GEMMs with channels innermost, so that tensor cores and 16-byte copies
// apply. The forward, per group gi (blockIdx.z):
//
//   y[n, gi*Kg + m, p, q] = bias[gi*Kg + m] + sum over kk of A[m, kk] * B[kk, pix]
//   A[m, kk]   = weight[gi*Kg + m, r, s, c]              weight as (K, R, S, Cg)
//   B[kk, pix] = x[n, p*sh - ph + r*dh, q*sw - pw + s*dw, gi*Cg + c]   x as (N, H, W, C)
//   kk = (r*S + s)*Cg + c,  pix = (n*P + p)*Q + q
//   M = Kg, N = N*P*Q, K = R*S*Cg; the im2col matrix B is never built.
//
// Python hands x and weight over channels-last; y is written in (N, K, P, Q).
//
// Tiling. A block of 256 threads (8 warps) computes a BM x BN = 64 x 128 tile of the
// output (output channels x pixels), marching over K in slices of BK elements
// (64 bytes: 32 halves or 16 floats). Each slice of A and B sits in shared memory
// "K innermost", As[m][kk] and Bs[pix][kk], three slices deep: while the warps multiply
// slice t, the copies of slices t+1 and t+2 are in flight (cp.async, sm_80+; see k_loop,
// one barrier per slice). The 8 warps form
// a 2 x 4 grid, each owning 32 x 32 outputs = 2 x 2 WMMA accumulators of 16 x 16
// (float32). fp16 and bf16 use the 16x16x16 MMA; float32 inputs use TF32 (16x16x8),
// which rounds each input to a 10-bit mantissa: the caller opts in to it.
//
// Loads. Each thread copies whole 16-byte chunks (8 halves or 4 floats along kk).
// When Cg is a multiple of the chunk, a chunk never straddles two window taps, so it is
// one contiguous, aligned run of x's channels (kVec path: cp.async with zero fill for
// padding and tails). Otherwise (C=3, odd group widths) the chunk is gathered element
// by element with plain loads (scalar path): same tiles, same barriers, no overlap.
// Every thread keeps the pixels it loads fixed for the whole K loop, so their (n, p, q)
// decoding is done once, before the loop; per slice a thread decodes its kk into
// (r, s, c) with two 32-bit divisions, shared by all its chunks.
//
// Indices are 32-bit: the host sends tensors of 2^31 - 2^20 or more elements elsewhere.
#include <mma.h>

#include <algorithm>
#include <climits>
#include <type_traits>

#include "conv2d/conv2d_cuda.h"
#include "cuda_common.cuh"

namespace hubkit {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int kThreads = 256, BM = 64, BN = 128, kSliceBytes = 64, kChunkBytes = 16;
constexpr int kChunks = kSliceBytes / kChunkBytes;  // 16-byte chunks per tile row (4)
constexpr int kBRows = BN * kChunks / kThreads;     // B chunks (pixels) per thread (2)
constexpr int kWarpM = 32, kWarpN = 32;             // one warp's share of the block tile
constexpr int kWarpsN = BN / kWarpN;                // 4 warps across pixels, 2 across channels
static_assert(BM * kChunks == kThreads, "one A chunk per thread");

// The MMA shape and fragment types per storage type.
template <typename T> struct Mma {
  static constexpr int kK = 16;
  using In = T;
  __device__ static void round(void*) {}
};
template <> struct Mma<float> {
  static constexpr int kK = 8;
  using In = wmma::precision::tf32;
  // subtle: load_matrix_sync keeps the float32 bits; TF32 MMA wants them rounded first.
  template <class Frag> __device__ static void round(Frag* f) {
#pragma unroll
    for (int i = 0; i < f->num_elements; ++i) f->x[i] = wmma::__float_to_tf32(f->x[i]);
  }
};

// Geometry in 32-bit ints plus the derived sizes the kernel needs.
struct Geo32 {
  int n, c, h, w, k, r, s, p, q, sh, sw, ph, pw, dh, dw, groups;
  int cg, kg, kdim, pq, npix;
};

template <typename T> struct Tile {
  static constexpr int BK = kSliceBytes / sizeof(T);       // K elements per slice
  static constexpr int kVecElems = kChunkBytes / sizeof(T);  // elements per 16-byte chunk
  // subtle: one extra chunk per row staggers rows across banks (80-byte pitch), and
  // keeps every 16-row fragment 32-byte aligned as load_matrix_sync requires.
  static constexpr int kLd = BK + kVecElems;
  static constexpr int kA = BM * kLd, kB = BN * kLd;       // elements per stage
};

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool ok) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  // subtle: src-size 0 copies nothing and zero-fills the 16 bytes (padding, tails);
  // gmem is still a valid address (the tensor's base) in that case.
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem),
               "r"(ok ? 16 : 0) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Wait until at most one group (the newest slice issued) is still in flight.
__device__ __forceinline__ void cp_async_wait_one() { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }

// The K loop of both kernels: kStages shared-memory stages, kStages-1 slices in flight.
// load(slice, stage) issues one slice's copies; mma(stage) multiplies a landed one.
// One barrier per slice: it both publishes slice t and certifies that every warp is done
// with slice t-1, whose stage the copies issued right after it refill.
constexpr int kStages = 3;

template <class Load, class Multiply>
__device__ __forceinline__ void k_loop(int slices, Load load, Multiply mma) {
  static_assert(kStages == 3, "the wait below keeps exactly one slice in flight");
  load(0, 0);
  cp_async_commit();
  if (slices > 1) load(1, 1);
  // subtle: commit even when nothing was issued, so "all but the newest group" below
  // always means "slice t has landed".
  cp_async_commit();
  for (int t = 0; t < slices; ++t) {
    cp_async_wait_one();
    __syncthreads();
    if (t + 2 < slices) load(t + 2, (t + 2) % kStages);
    cp_async_commit();
    mma(t % kStages);
  }
  __syncthreads();  // every warp is done with the stages: the epilogue reuses them
}

// The pixels one thread loads, decoded once: x offset of (n, group), top-left tap.
struct PixelRows {
  int x_off[kBRows];
  int ih0[kBRows], iw0[kBRows];
};

__device__ PixelRows decode_pixels(const Geo32& g, int gi, int n0, int tid) {
  PixelRows pr;
#pragma unroll
  for (int i = 0; i < kBRows; ++i) {
    const int pix = n0 + (tid + i * kThreads) / kChunks;
    const int pc = min(pix, g.npix - 1);  // decoded in range, so no offset can overflow
    const int ni = pc / g.pq, pq = pc - ni * g.pq, p = pq / g.q, q = pq - p * g.q;
    pr.x_off[i] = ni * g.h * g.w * g.c + gi * g.cg;
    // subtle: a pixel past the end gets a row far below 0, so every tap of it fails the
    // bounds test below: one test covers padding and the pixel tail.
    pr.ih0[i] = pix < g.npix ? p * g.sh - g.ph : INT_MIN / 2;
    pr.iw0[i] = q * g.sw - g.pw;
  }
  return pr;
}

// Offset of x[n, ih, iw, gi*Cg + c] for tap (r, s) of one pixel row, or -1 in the padding.
__device__ __forceinline__ int tap_offset(const Geo32& g, const PixelRows& pr, int i, int r, int s,
                                          int c) {
  const int ih = pr.ih0[i] + r * g.dh, iw = pr.iw0[i] + s * g.dw;
  const bool in = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
  return in ? pr.x_off[i] + (ih * g.w + iw) * g.c + c : -1;
}

// Issue the copies of K slice [kt, kt + BK) into one stage of As / Bs.
template <typename T, bool kVec>
__device__ void load_slice(const Geo32& g, const T* x, const T* wt, int a_off, bool a_ok,
                           const PixelRows& pr, int kt, int tid, T* As, T* Bs) {
  using Tl = Tile<T>;
  const int col = tid % kChunks, kk = kt + col * Tl::kVecElems;
  const int rs = kk / g.cg, c = kk - rs * g.cg, r = rs / g.s, s = rs - r * g.s;
  T* a_dst = As + (tid / kChunks) * Tl::kLd + col * Tl::kVecElems;
  if constexpr (kVec) {
    // subtle: Cg % kVecElems == 0, so kdim is a multiple of the chunk too: a chunk is
    // wholly inside K or wholly past it, and wholly inside one (r, s) tap.
    cp_async16(a_dst, a_ok && kk < g.kdim ? wt + a_off + kk : wt, a_ok && kk < g.kdim);
#pragma unroll
    for (int i = 0; i < kBRows; ++i) {
      const int off = kk < g.kdim ? tap_offset(g, pr, i, r, s, c) : -1;
      T* b_dst = Bs + ((tid + i * kThreads) / kChunks) * Tl::kLd + col * Tl::kVecElems;
      cp_async16(b_dst, off >= 0 ? x + off : x, off >= 0);
    }
  } else {
    const T zero = from_f32<T>(0.0f);
    int re = r, se = s, ce = c;  // (r, s, c) of element kk + e, stepped along
#pragma unroll
    for (int e = 0; e < Tl::kVecElems; ++e) {
      const bool k_in = kk + e < g.kdim;
      a_dst[e] = a_ok && k_in ? wt[a_off + kk + e] : zero;
#pragma unroll
      for (int i = 0; i < kBRows; ++i) {
        const int off = k_in ? tap_offset(g, pr, i, re, se, ce) : -1;
        Bs[((tid + i * kThreads) / kChunks) * Tl::kLd + col * Tl::kVecElems + e] =
            off >= 0 ? x[off] : zero;
      }
      if (++ce == g.cg) {  // next channel; wrap into the next tap
        ce = 0;
        if (++se == g.s) se = 0, ++re;
      }
    }
  }
}

// kKOuter false: tiles stored K innermost (forward: As[m][kk], Bs[pix][kk]);
// true: K outermost (grad weight: As[kk][m], Bs[kk][n]). Same products either way.
template <typename T, bool kKOuter>
using FragA = wmma::fragment<wmma::matrix_a, 16, 16, Mma<T>::kK, typename Mma<T>::In,
                             std::conditional_t<kKOuter, wmma::col_major, wmma::row_major>>;
template <typename T, bool kKOuter>
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, Mma<T>::kK, typename Mma<T>::In,
                             std::conditional_t<kKOuter, wmma::row_major, wmma::col_major>>;
template <typename T>
using FragC = wmma::fragment<wmma::accumulator, 16, 16, Mma<T>::kK, float>;

// Offset of element (row, k) of a tile stored with leading dimension ld.
template <bool kKOuter>
__device__ __forceinline__ int at(int row, int k, int ld) { return kKOuter ? k * ld + row : row * ld + k; }

// acc += this warp's 32 x 32 share of A * B for one staged slice of bk K-elements.
template <typename T, bool kKOuter, int kBK>
__device__ void mma_slice(const T* As, int lda, const T* Bs, int ldb, int wm, int wn,
                          FragC<T> (&acc)[2][2]) {
#pragma unroll
  for (int k = 0; k < kBK; k += Mma<T>::kK) {
    FragA<T, kKOuter> a[2];
    FragB<T, kKOuter> b[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      wmma::load_matrix_sync(a[i], As + at<kKOuter>(wm * kWarpM + i * 16, k, lda), lda);
      Mma<T>::round(&a[i]);
      // subtle: the forward's Bs is pixel-major with kk innermost, i.e. B (K x N) in
      // column-major order; grad weight's Bs is kk-major, i.e. row-major
      wmma::load_matrix_sync(b[i], Bs + at<kKOuter>(wn * kWarpN + i * 16, k, ldb), ldb);
      Mma<T>::round(&b[i]);
    }
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
  }
}

// Write one warp's accumulators (+ bias) into y (N, K, P, Q) through a 16 x 16 scratch.
template <typename T>
__device__ void store_tile(const Geo32& g, int gi, int m_warp, int n_warp, const T* bias, T* y,
                           FragC<T> (&acc)[2][2], float* scratch) {
  const int lane = threadIdx.x % 32, col = lane % 16;
#pragma unroll
  for (int j = 0; j < 2; ++j) {
    // Each lane owns one pixel column of the fragment: decode it once.
    const int pix = n_warp + j * 16 + col;
    const int ni = pix / g.pq, pq = pix - ni * g.pq;
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      // lanes 0-15 write 16 neighbouring pixels of one channel, lanes 16-31 the next
#pragma unroll
      for (int t = 0; t < 8; ++t) {
        const int row = lane / 16 + 2 * t, m = m_warp + i * 16 + row;
        if (pix < g.npix && m < g.kg) {
          const int kc = gi * g.kg + m;
          const float b0 = bias != nullptr ? load_f32(bias + kc) : 0.0f;
          y[(ni * g.k + kc) * g.pq + pq] = from_f32<T>(scratch[row * 16 + col] + b0);
        }
      }
      __syncwarp();  // the scratch is overwritten by the next fragment
    }
  }
}

template <typename T, bool kVec>
__global__ void __launch_bounds__(kThreads, 2)
    conv2d_tc_kernel(Geo32 g, const T* __restrict__ x, const T* __restrict__ wt,
                     const T* __restrict__ bias, T* __restrict__ y) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();  // cp.async, bf16 and TF32 MMA need sm_80; the host never launches this there
#else
  using Tl = Tile<T>;
  // subtle: one raw buffer: the stages during the K loop, the warps' scratch after it
  __shared__ __align__(128) unsigned char smem[kStages * (Tl::kA + Tl::kB) * sizeof(T)];
  static_assert(sizeof(smem) >= kThreads / 32 * 16 * 16 * sizeof(float), "scratch fits");
  T* const As = reinterpret_cast<T*>(smem);
  T* const Bs = As + kStages * Tl::kA;
  const int tid = threadIdx.x, warp = tid / 32, wm = warp / kWarpsN, wn = warp % kWarpsN;
  const int gi = blockIdx.z, m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  // This thread's A row (one output channel) and B rows (pixels), fixed for the K loop.
  const int a_row = m0 + tid / kChunks;
  const bool a_ok = a_row < g.kg;
  const int a_off = a_ok ? (gi * g.kg + a_row) * g.kdim : 0;
  const PixelRows pr = decode_pixels(g, gi, n0, tid);

  FragC<T> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  k_loop((g.kdim + Tl::BK - 1) / Tl::BK,
         [&](int slice, int stage) {
           load_slice<T, kVec>(g, x, wt, a_off, a_ok, pr, slice * Tl::BK, tid,
                               As + stage * Tl::kA, Bs + stage * Tl::kB);
         },
         [&](int stage) {
           mma_slice<T, false, Tl::BK>(As + stage * Tl::kA, Tl::kLd, Bs + stage * Tl::kB,
                                       Tl::kLd, wm, wn, acc);
         });
  float* const scratch = reinterpret_cast<float*>(smem) + warp * 16 * 16;
  store_tile<T>(g, gi, m0 + wm * kWarpM, n0 + wn * kWarpN, bias, y, acc, scratch);
#endif
}

// ---- grad weight -----------------------------------------------------------------------
//
// Per group gi, the pixels are the long reduction:
//
//   grad_w[gi*Kg + m, r, s, c] = sum over pix of A[m, pix] * B[pix, n]
//   A[m, pix] = grad_y[n, p, q, gi*Kg + m]                          grad_y as (N, P, Q, K)
//   B[pix, n] = x[n, p*sh - ph + r*dh, q*sw - pw + s*dw, gi*Cg + c]  x as (N, H, W, C)
//   n = (r*S + s)*Cg + c;  M = Kg, N = R*S*Cg, K = N*P*Q
//
// Same block shape, warps and K loop as the forward, with the tiles stored K outermost
// (As[pix][m], Bs[pix][n]): channels are contiguous in memory along m and n, so the
// 16-byte chunks run along them. A thread's B column chunk, hence its (r, s, c), is fixed
// for the whole loop and decoded once; its pixel rows change every slice (one decode per
// row per slice). M and N are small and K is huge, so K is split across blockIdx.z and
// each split adds its partial tile into a float32 workspace (K, R, S, Cg) with atomicAdd.

template <typename T> struct WTile {
  static constexpr int BK = kSliceBytes / sizeof(T);  // pixels per slice
  static constexpr int kVecElems = kChunkBytes / sizeof(T);
  static constexpr int kLdA = BM + kVecElems, kLdB = BN + kVecElems;  // one chunk of pad
  static constexpr int kA = BK * kLdA, kB = BK * kLdB;
  static constexpr int kARow = BM / kVecElems, kBRow = BN / kVecElems;  // chunks per row
  static_assert(BK * kARow == kThreads, "one A chunk per thread");
  static_assert(BK * kBRow == kBRows * kThreads, "kBRows B chunks per thread");
};

// One pixel of the reduction: its grad_y and x offsets and top-left tap; off the split's
// range, ih0 is far below 0 (as in decode_pixels) and ok is false.
struct Pixel {
  int gy_off, x_off, ih0, iw0;
  bool ok;
};

__device__ __forceinline__ Pixel pixel_at(const Geo32& g, int gi, int pix, int k_end) {
  const int pc = min(pix, g.npix - 1);
  const int ni = pc / g.pq, pq = pc - ni * g.pq, p = pq / g.q, q = pq - p * g.q;
  const bool ok = pix < k_end;
  // subtle: the pixel index is also grad_y's (N, P, Q) row, since pix = (ni*P + p)*Q + q
  return {pc * g.k + gi * g.kg, ni * g.h * g.w * g.c + gi * g.cg,
          ok ? p * g.sh - g.ph : INT_MIN / 2, q * g.sw - g.pw, ok};
}

// Offset of x for column (r, s, c) of pixel px, or -1 in the padding or off the range.
__device__ __forceinline__ int pixel_tap(const Geo32& g, const Pixel& px, int r, int s, int c) {
  const int ih = px.ih0 + r * g.dh, iw = px.iw0 + s * g.dw;
  const bool in = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w;
  return in ? px.x_off + (ih * g.w + iw) * g.c + c : -1;
}

// The column chunk one thread loads, decoded once: first n, and its (r, s, c).
struct Column {
  int n, r, s, c;
};

template <typename T, bool kVec>
__device__ void load_wslice(const Geo32& g, const T* gy, const T* x, int gi, int m0, int kt,
                            int k_end, const Column& col, int tid, T* As, T* Bs) {
  using Tl = WTile<T>;
  constexpr int V = Tl::kVecElems;
  const int a_row = tid / Tl::kARow, m = m0 + (tid % Tl::kARow) * V;
  const Pixel pa = pixel_at(g, gi, kt + a_row, k_end);
  T* a_dst = As + a_row * Tl::kLdA + (tid % Tl::kARow) * V;
  Pixel pb[kBRows];
  T* b_dst[kBRows];
#pragma unroll
  for (int i = 0; i < kBRows; ++i) {
    const int b_row = (tid + i * kThreads) / Tl::kBRow;
    pb[i] = pixel_at(g, gi, kt + b_row, k_end);
    b_dst[i] = Bs + b_row * Tl::kLdB + (tid % Tl::kBRow) * V;
  }
  if constexpr (kVec) {
    // subtle: Kg and Cg are multiples of V here, so a chunk is wholly inside or past M,
    // wholly inside or past N, and inside one (r, s) tap.
    const bool a_ok = pa.ok && m < g.kg;
    cp_async16(a_dst, a_ok ? gy + pa.gy_off + m : gy, a_ok);
#pragma unroll
    for (int i = 0; i < kBRows; ++i) {
      const int off = col.n < g.kdim ? pixel_tap(g, pb[i], col.r, col.s, col.c) : -1;
      cp_async16(b_dst[i], off >= 0 ? x + off : x, off >= 0);
    }
  } else {
    const T zero = from_f32<T>(0.0f);
    int re = col.r, se = col.s, ce = col.c;  // (r, s, c) of column n + e, stepped along
#pragma unroll
    for (int e = 0; e < V; ++e) {
      a_dst[e] = pa.ok && m + e < g.kg ? gy[pa.gy_off + m + e] : zero;
#pragma unroll
      for (int i = 0; i < kBRows; ++i) {
        const int off = col.n + e < g.kdim ? pixel_tap(g, pb[i], re, se, ce) : -1;
        b_dst[i][e] = off >= 0 ? x[off] : zero;
      }
      if (++ce == g.cg) {
        ce = 0;
        if (++se == g.s) se = 0, ++re;
      }
    }
  }
}

// Add one warp's accumulators into the float32 workspace (K, R*S*Cg).
template <typename T>
__device__ void add_tile(const Geo32& g, int gi, int m_warp, int n_warp, float* ws,
                         FragC<T> (&acc)[2][2], float* scratch) {
  const int lane = threadIdx.x % 32, col = lane % 16;
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      wmma::store_matrix_sync(scratch, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      const int n = n_warp + j * 16 + col;
#pragma unroll
      for (int t = 0; t < 8; ++t) {
        const int row = lane / 16 + 2 * t, m = m_warp + i * 16 + row;
        if (m < g.kg && n < g.kdim)  // split-K blocks add into the same entries
          atomicAdd(ws + (gi * g.kg + m) * g.kdim + n, scratch[row * 16 + col]);
      }
      __syncwarp();
    }
}

template <typename T, bool kVec>
__global__ void __launch_bounds__(kThreads, 2)
    conv2d_grad_weight_tc_kernel(Geo32 g, const T* __restrict__ gy, const T* __restrict__ x,
                                 float* __restrict__ ws, int split_slices) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
  __trap();
#else
  using Tl = WTile<T>;
  __shared__ __align__(128) unsigned char smem[kStages * (Tl::kA + Tl::kB) * sizeof(T)];
  static_assert(sizeof(smem) >= kThreads / 32 * 16 * 16 * sizeof(float), "scratch fits");
  T* const As = reinterpret_cast<T*>(smem);
  T* const Bs = As + kStages * Tl::kA;
  const int tid = threadIdx.x, warp = tid / 32, wm = warp / kWarpsN, wn = warp % kWarpsN;
  const int gi = blockIdx.z % g.groups, split = blockIdx.z / g.groups;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;
  const long long begin = static_cast<long long>(split) * split_slices * Tl::BK;
  const int k_begin = static_cast<int>(min(begin, static_cast<long long>(g.npix)));
  const int k_end = static_cast<int>(min(begin + split_slices * Tl::BK, static_cast<long long>(g.npix)));
  if (k_begin >= k_end) return;  // the same for the whole block: no barrier is skipped
  Column col;
  col.n = n0 + (tid % Tl::kBRow) * Tl::kVecElems;
  const int rs = col.n / g.cg;
  col.c = col.n - rs * g.cg;
  col.r = rs / g.s;
  col.s = rs - col.r * g.s;

  FragC<T> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  k_loop((k_end - k_begin + Tl::BK - 1) / Tl::BK,
         [&](int slice, int stage) {
           load_wslice<T, kVec>(g, gy, x, gi, m0, k_begin + slice * Tl::BK, k_end, col, tid,
                                As + stage * Tl::kA, Bs + stage * Tl::kB);
         },
         [&](int stage) {
           mma_slice<T, true, Tl::BK>(As + stage * Tl::kA, Tl::kLdA, Bs + stage * Tl::kB,
                                      Tl::kLdB, wm, wn, acc);
         });
  float* const scratch = reinterpret_cast<float*>(smem) + warp * 16 * 16;
  add_tile<T>(g, gi, m0 + wm * kWarpM, n0 + wn * kWarpN, ws, acc, scratch);
#endif
}

Geo32 geo32(const std::vector<std::int64_t>& d) {
  if (d.size() != 16) throw std::invalid_argument("conv2d (tensor cores): dims must hold 16 integers");
  const std::int64_t n = d[0], c = d[1], h = d[2], w = d[3], k = d[4], r = d[5], s = d[6],
                     p = d[7], q = d[8], groups = d[15];
  const std::int64_t big = std::max({n * c * h * w, n * k * p * q, k * (c / groups) * r * s});
  // subtle: headroom below 2^31, so tile starts and tails past the last element
  // (pixel + tile width, slice + slice depth) still fit in an int
  if (big >= (std::int64_t{1} << 31) - (std::int64_t{1} << 20))
    throw std::invalid_argument("conv2d (tensor cores): tensors must hold fewer than 2^31 "
                                "elements (use the generic cuda kernel)");
  if (groups > 65535 || (k / groups + BM - 1) / BM > 65535)
    throw std::invalid_argument("conv2d (tensor cores): at most 65535 groups and 65535 channel tiles");
  const auto i32 = [&d](int i) { return static_cast<int>(d[i]); };
  Geo32 g{i32(0), i32(1), i32(2), i32(3), i32(4), i32(5), i32(6), i32(7), i32(8), i32(9),
          i32(10), i32(11), i32(12), i32(13), i32(14), i32(15), 0, 0, 0, 0, 0};
  g.cg = g.c / g.groups;
  g.kg = g.k / g.groups;
  g.kdim = g.r * g.s * g.cg;
  g.pq = g.p * g.q;
  g.npix = g.n * g.pq;
  return g;
}

bool aligned16(std::uintptr_t p) { return p % 16 == 0; }

template <typename T>
void forward_tc(std::uintptr_t x, std::uintptr_t w, std::uintptr_t b, std::uintptr_t y,
                const Geo32& g, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((g.npix + BN - 1) / BN),
                  static_cast<unsigned>((g.kg + BM - 1) / BM), static_cast<unsigned>(g.groups));
  const bool vec = g.cg % Tile<T>::kVecElems == 0 && aligned16(x) && aligned16(w);
  auto* xp = as_ptr<const T>(x);
  auto* wp = as_ptr<const T>(w);
  auto* bp = as_ptr<const T>(b);
  if (vec)
    conv2d_tc_kernel<T, true><<<grid, kThreads, 0, stream>>>(g, xp, wp, bp, as_ptr<T>(y));
  else
    conv2d_tc_kernel<T, false><<<grid, kThreads, 0, stream>>>(g, xp, wp, bp, as_ptr<T>(y));
  check_launch("conv2d_forward_tc");
}

template <typename T>
void grad_weight_tc(std::uintptr_t gy, std::uintptr_t x, std::uintptr_t ws, const Geo32& g,
                    int device, cudaStream_t stream) {
  using Tl = WTile<T>;
  const int tiles_n = (g.kdim + BN - 1) / BN, tiles_m = (g.kg + BM - 1) / BM;
  const long long tiles = static_cast<long long>(tiles_n) * tiles_m * g.groups;
  const int slices = (g.npix + Tl::BK - 1) / Tl::BK;
  int sms = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) != cudaSuccess) {
    cudaGetLastError();
    sms = 100;
  }
  // Split the pixels until there are about two blocks per SM, with at least four
  // slices per split (each split pays for its atomics and its pipeline start).
  const long long want = std::min<long long>({(2LL * sms + tiles - 1) / tiles, slices / 4,
                                              65535 / g.groups});
  const int per_split = static_cast<int>((slices + std::max(1LL, want) - 1) / std::max(1LL, want));
  const int splits = (slices + per_split - 1) / per_split;  // none left empty
  const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(tiles_m),
                  static_cast<unsigned>(g.groups * splits));
  const bool vec = g.kg % Tl::kVecElems == 0 && g.cg % Tl::kVecElems == 0 && aligned16(gy) &&
                   aligned16(x);
  auto* gp = as_ptr<const T>(gy);
  auto* xp = as_ptr<const T>(x);
  if (vec)
    conv2d_grad_weight_tc_kernel<T, true><<<grid, kThreads, 0, stream>>>(g, gp, xp, as_ptr<float>(ws), per_split);
  else
    conv2d_grad_weight_tc_kernel<T, false><<<grid, kThreads, 0, stream>>>(g, gp, xp, as_ptr<float>(ws), per_split);
  check_launch("conv2d_grad_weight_tc");
}

void require_sm80(int device) {
  int major = 0;
  if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) {
    cudaGetLastError();
    throw std::runtime_error("conv2d_forward_tc: could not read the device's compute capability");
  }
  if (major < 8)
    throw std::invalid_argument("conv2d_forward_tc: needs compute capability 8.0 or newer "
                                "(cp.async, bf16 and TF32 MMA)");
}

}  // namespace

void conv2d_forward_tc_cuda(std::uintptr_t x_nhwc, std::uintptr_t w_krsc, std::uintptr_t bias,
                            std::uintptr_t y, const std::vector<std::int64_t>& dims, int dtype,
                            int device, std::uintptr_t stream) {
  const DeviceGuard guard(device);
  require_sm80(device);
  const Geo32 g = geo32(dims);
  switch (to_dtype(dtype)) {
    case DType::f32: return forward_tc<float>(x_nhwc, w_krsc, bias, y, g, as_stream(stream));
    case DType::f16: return forward_tc<__half>(x_nhwc, w_krsc, bias, y, g, as_stream(stream));
    case DType::bf16: return forward_tc<__nv_bfloat16>(x_nhwc, w_krsc, bias, y, g, as_stream(stream));
    default:
      throw std::invalid_argument("conv2d (tensor cores): dtype must be float16, bfloat16 or "
                                  "float32 (as TF32)");
  }
}

void conv2d_grad_weight_tc_cuda(std::uintptr_t gy_nhwc, std::uintptr_t x_nhwc, std::uintptr_t ws,
                                const std::vector<std::int64_t>& dims, int dtype, int device,
                                std::uintptr_t stream) {
  const DeviceGuard guard(device);
  require_sm80(device);
  const Geo32 g = geo32(dims);
  const cudaStream_t st = as_stream(stream);
  switch (to_dtype(dtype)) {
    case DType::f32: return grad_weight_tc<float>(gy_nhwc, x_nhwc, ws, g, device, st);
    case DType::f16: return grad_weight_tc<__half>(gy_nhwc, x_nhwc, ws, g, device, st);
    case DType::bf16: return grad_weight_tc<__nv_bfloat16>(gy_nhwc, x_nhwc, ws, g, device, st);
    default:
      throw std::invalid_argument("conv2d (tensor cores): dtype must be float16, bfloat16 or "
                                  "float32 (as TF32)");
  }
}

}  // namespace hubkit
