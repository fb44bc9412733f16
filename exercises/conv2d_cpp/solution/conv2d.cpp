// conv2d forward on the CPU, direct form: one output plane per (image, filter).
//
// Loop order matters for speed: for a fixed (n, k) the output plane stays in
// cache while every (c, r, s) tap adds weight * (a shifted input row) to it,
// and the innermost loop walks q, contiguous in both out and x.
#include "conv2d.h"

#include <stdexcept>

void conv2d_forward(std::uintptr_t x, std::uintptr_t weight, std::uintptr_t bias,
                    std::uintptr_t out, std::int64_t n, std::int64_t c, std::int64_t h,
                    std::int64_t w, std::int64_t k, std::int64_t r, std::int64_t s,
                    std::int64_t p, std::int64_t q, std::int64_t stride, std::int64_t padding,
                    std::int64_t dilation, std::int64_t groups) {
  // BEGIN SOLUTION
  // starter> // Step 1: pointers: reinterpret_cast<const float*>(x), ... float* for out.
  // starter> // Step 2: for each image ni and filter ki: g = ki / (k / groups); fill the
  // starter> //         output plane out[ni, ki] with bias[ki].
  // starter> // Step 3: for each tap (ci, ri, si): ih = pi*stride - padding + ri*dilation,
  // starter> //         iw = qi*stride - padding + si*dilation; skip taps outside the image;
  // starter> //         add weight[ki, ci, ri, si] * x[ni, g*(c/groups) + ci, ih, iw].
  // starter> // Step 4: #pragma omp parallel for over the (image, filter) pairs.
  // starter> throw std::runtime_error("not implemented yet");
  const float* xp = reinterpret_cast<const float*>(x);
  const float* wp = reinterpret_cast<const float*>(weight);
  const float* bp = reinterpret_cast<const float*>(bias);
  float* yp = reinterpret_cast<float*>(out);
  const std::int64_t cg = c / groups, kg = k / groups;
#pragma omp parallel for schedule(static)
  for (std::int64_t nk = 0; nk < n * k; ++nk) {
    const std::int64_t ni = nk / k, ki = nk % k, g = ki / kg;
    float* plane = yp + nk * p * q;  // out[ni, ki], (P, Q)
    for (std::int64_t i = 0; i < p * q; ++i) plane[i] = bp[ki];
    for (std::int64_t ci = 0; ci < cg; ++ci) {
      const float* image = xp + (ni * c + g * cg + ci) * h * w;  // x[ni, g*cg + ci]
      for (std::int64_t ri = 0; ri < r; ++ri)
        for (std::int64_t si = 0; si < s; ++si) {
          const float wv = wp[((ki * cg + ci) * r + ri) * s + si];
          for (std::int64_t pi = 0; pi < p; ++pi) {
            const std::int64_t ih = pi * stride - padding + ri * dilation;
            if (ih < 0 || ih >= h) continue;  // this row of taps lands in the zero padding
            for (std::int64_t qi = 0; qi < q; ++qi) {
              const std::int64_t iw = qi * stride - padding + si * dilation;
              if (iw >= 0 && iw < w) plane[pi * q + qi] += wv * image[ih * w + iw];
            }
          }
        }
    }
  }
  // END SOLUTION
}
