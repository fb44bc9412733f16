// conv2d forward on the GPU, step 2 of the ladder: implicit GEMM tiled in shared memory.
//
// The convolution is a matrix product per group g, with the im2col matrix never built:
//
//   out[n, g*Kg + m, p, q] = bias + sum over kk < Cg*R*S of  A[m, kk] * B[kk, pix]
//   A[m, kk]   = weight[g*Kg + m, c, r, s]        (the filters, row-major as stored)
//   B[kk, pix] = x[n, g*Cg + c, p*stride - padding + r*dilation, q*stride - padding + s*dilation]
//   kk = (c*R + r)*S + s,  pix = (n*P + p)*Q + q
//
// A block of 16 x 16 threads computes a 16 x 16 tile of outputs (16 channels x 16 pixels).
// It walks kk in 16-deep slices: every thread copies one element of A and one of B into
// shared memory, the block waits, then each thread does 16 multiply-adds from shared
// memory. Each x element brought in is reused by 16 output channels, each weight by 16
// pixels: the direct kernel (step 1) re-read both from global memory every time.
// Same contract as the direct kernel: see conv2d.h.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "conv2d.h"

namespace {

constexpr int kTile = 16;

struct Shape {
  std::int64_t n, c, h, w, k, r, s, p, q, stride, padding, dilation, groups;
};

// B[kk, pix] for the pixel (ni, pi, qi) of group gi: x in the window, 0 in the padding.
__device__ float im2col(const float* x, const Shape& d, std::int64_t gi, std::int64_t kk,
                        std::int64_t ni, std::int64_t pi, std::int64_t qi) {
  const std::int64_t cg = d.c / d.groups, rs = d.r * d.s;
  const std::int64_t ci = kk / rs, ri = kk % rs / d.s, si = kk % d.s;
  const std::int64_t ih = pi * d.stride - d.padding + ri * d.dilation;
  const std::int64_t iw = qi * d.stride - d.padding + si * d.dilation;
  if (ih < 0 || ih >= d.h || iw < 0 || iw >= d.w) return 0.0f;
  return x[((ni * d.c + gi * cg + ci) * d.h + ih) * d.w + iw];
}

__global__ void conv2d_tiled_kernel(const float* __restrict__ x, const float* __restrict__ wt,
                                    const float* __restrict__ bias, float* __restrict__ out,
                                    Shape d) {
  __shared__ float As[kTile][kTile];  // [output channel][kk]
  __shared__ float Bs[kTile][kTile];  // [kk][pixel]
  const std::int64_t kg = d.k / d.groups, kdim = d.c / d.groups * d.r * d.s;
  const std::int64_t pq = d.p * d.q, npix = d.n * pq, gi = blockIdx.z;
  const int tx = threadIdx.x % kTile, ty = threadIdx.x / kTile;
  const std::int64_t m = std::int64_t(blockIdx.y) * kTile + ty;    // channel this thread sums
  const std::int64_t pix = std::int64_t(blockIdx.x) * kTile + tx;  // pixel this thread sums
  // Decoded once, not per slice: the pixel is the same for the whole loop.
  const std::int64_t ni = pix / pq, pi = pix % pq / d.q, qi = pix % d.q;
  // Thread (ty, tx) copies A[m0 + ty, k0 + tx] and B[k0 + ty, this pixel]: neighbouring
  // threads (tx) read neighbouring addresses in both, so the loads coalesce.
  float acc = 0.0f;
  for (std::int64_t k0 = 0; k0 < kdim; k0 += kTile) {
    const std::int64_t ka = k0 + tx, kb = k0 + ty;
    As[ty][tx] = m < kg && ka < kdim ? wt[(gi * kg + m) * kdim + ka] : 0.0f;
    Bs[ty][tx] = pix < npix && kb < kdim ? im2col(x, d, gi, kb, ni, pi, qi) : 0.0f;
    __syncthreads();  // the whole tile is loaded before anyone reads it
#pragma unroll
    for (int kk = 0; kk < kTile; ++kk) acc += As[ty][kk] * Bs[kk][tx];
    __syncthreads();  // everyone is done reading before the next slice overwrites it
  }
  if (m < kg && pix < npix) out[(ni * d.k + gi * kg + m) * pq + pi * d.q + qi] = acc + bias[gi * kg + m];
}

}  // namespace

void conv2d_forward(std::uintptr_t x, std::uintptr_t weight, std::uintptr_t bias,
                    std::uintptr_t out, std::int64_t n, std::int64_t c, std::int64_t h,
                    std::int64_t w, std::int64_t k, std::int64_t r, std::int64_t s,
                    std::int64_t p, std::int64_t q, std::int64_t stride, std::int64_t padding,
                    std::int64_t dilation, std::int64_t groups, std::uintptr_t stream) {
  const Shape d{n, c, h, w, k, r, s, p, q, stride, padding, dilation, groups};
  const dim3 grid(static_cast<unsigned>((n * p * q + kTile - 1) / kTile),
                  static_cast<unsigned>((k / groups + kTile - 1) / kTile),
                  static_cast<unsigned>(groups));
  conv2d_tiled_kernel<<<grid, kTile * kTile, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(weight),
      reinterpret_cast<const float*>(bias), reinterpret_cast<float*>(out), d);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw std::runtime_error(std::string("conv2d_forward: ") +
                                                   cudaGetErrorString(err));
}
