// conv2d forward on the GPU, direct form: one thread per output element.
//
// Thread i computes out[n, k, p, q] for the flat index i = ((n*K + k)*P + p)*Q + q:
// neighbouring threads take neighbouring q, so their reads of x (for stride 1)
// and their writes of out are contiguous and coalesce. Every thread writes
// exactly one element, so no two threads ever touch the same output.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "conv2d.h"

// BEGIN SOLUTION
// starter> // Step 1: a __global__ kernel where each thread owns one output element
// starter> //         (grid-stride loop over i < N*K*P*Q), decodes (n, k, p, q) from i,
// starter> //         sums bias[k] + weight * x over its (c, r, s) taps, skipping taps in the
// starter> //         padding, and writes the sum once.
namespace {

__global__ void conv2d_kernel(const float* __restrict__ x, const float* __restrict__ wt,
                              const float* __restrict__ bias, float* __restrict__ out,
                              std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w,
                              std::int64_t k, std::int64_t r, std::int64_t s, std::int64_t p,
                              std::int64_t q, std::int64_t stride, std::int64_t padding,
                              std::int64_t dilation, std::int64_t groups) {
  const std::int64_t total = n * k * p * q, cg = c / groups, kg = k / groups;
  for (std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x; i < total;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    const std::int64_t qi = i % q, pi = i / q % p, ki = i / (p * q) % k, ni = i / (p * q * k);
    const std::int64_t g = ki / kg;
    float acc = bias[ki];
    for (std::int64_t ci = 0; ci < cg; ++ci) {
      const float* image = x + (ni * c + g * cg + ci) * h * w;
      const float* filt = wt + (ki * cg + ci) * r * s;
      for (std::int64_t ri = 0; ri < r; ++ri) {
        const std::int64_t ih = pi * stride - padding + ri * dilation;
        if (ih < 0 || ih >= h) continue;  // a padding row: contributes zero
        for (std::int64_t si = 0; si < s; ++si) {
          const std::int64_t iw = qi * stride - padding + si * dilation;
          if (iw >= 0 && iw < w) acc += filt[ri * s + si] * image[ih * w + iw];
        }
      }
    }
    out[i] = acc;
  }
}

}  // namespace
// END SOLUTION

void conv2d_forward(std::uintptr_t x, std::uintptr_t weight, std::uintptr_t bias,
                    std::uintptr_t out, std::int64_t n, std::int64_t c, std::int64_t h,
                    std::int64_t w, std::int64_t k, std::int64_t r, std::int64_t s,
                    std::int64_t p, std::int64_t q, std::int64_t stride, std::int64_t padding,
                    std::int64_t dilation, std::int64_t groups, std::uintptr_t stream) {
  // BEGIN SOLUTION
  // starter> // Step 2: launch enough 256-thread blocks to cover N*K*P*Q outputs (cap the
  // starter> //         grid; the loop strides over the rest) on reinterpret_cast<cudaStream_t>(stream).
  // starter> // Step 3: check cudaGetLastError() and throw std::runtime_error on failure.
  // starter> throw std::runtime_error("not implemented yet");
  const std::int64_t total = n * k * p * q;
  const int threads = 256;
  const std::int64_t blocks = (total + threads - 1) / threads;
  const int grid = static_cast<int>(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
  conv2d_kernel<<<grid, threads, 0, reinterpret_cast<cudaStream_t>(stream)>>>(
      reinterpret_cast<const float*>(x), reinterpret_cast<const float*>(weight),
      reinterpret_cast<const float*>(bias), reinterpret_cast<float*>(out), n, c, h, w, k, r, s,
      p, q, stride, padding, dilation, groups);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) throw std::runtime_error(std::string("conv2d_forward: ") +
                                                   cudaGetErrorString(err));
  // END SOLUTION
}
