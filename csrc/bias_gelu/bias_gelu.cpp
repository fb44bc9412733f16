// CPU kernels for fused bias + GELU. One pass over memory: rows are split
// across OpenMP threads, and each row is a `#pragma omp simd` loop whose erf
// and exp calls go to glibc's vector math where the running glibc has it
// (vector_math.h), built for AVX-512, AVX2 and plain x86-64 and picked at
// load time.
#include "bias_gelu/bias_gelu.h"

#include <cmath>

#include "common.h"
#include "vector_math.h"

namespace hubkit {
namespace {

// One row, written so the compiler vectorizes it (see vector_math.h).
template <typename T>
inline __attribute__((always_inline)) void forward_row(const T* x, const T* b, T* y,
                                                       std::int64_t cols) {
  const T inv_sqrt2 = T(0.70710678118654752440);
#pragma omp simd
  for (std::int64_t c = 0; c < cols; ++c) {
    const T z = x[c] + b[c];
    y[c] = T(0.5) * z * (T(1) + vmath::erf(z * inv_sqrt2));
  }
}

template <typename T>
inline __attribute__((always_inline)) void backward_row(const T* g, const T* x, const T* b,
                                                        T* gx, std::int64_t cols) {
  const T inv_sqrt2 = T(0.70710678118654752440);
  const T inv_sqrt_2pi = T(0.39894228040143267794);
#pragma omp simd
  for (std::int64_t c = 0; c < cols; ++c) {
    const T z = x[c] + b[c];
    // d/dz [z * Phi(z)] = Phi(z) + z * phi(z)
    const T cdf = T(0.5) * (T(1) + vmath::erf(z * inv_sqrt2));
    const T pdf = inv_sqrt_2pi * vmath::exp(T(-0.5) * z * z);
    gx[c] = g[c] * (cdf + z * pdf);
  }
}

HUBKIT_MULTIVERSION void forward_rows(const float* x, const float* b, float* y,
                                      std::int64_t r0, std::int64_t r1, std::int64_t cols) {
  for (std::int64_t r = r0; r < r1; ++r) forward_row(x + r * cols, b, y + r * cols, cols);
}
HUBKIT_MULTIVERSION void forward_rows(const double* x, const double* b, double* y,
                                      std::int64_t r0, std::int64_t r1, std::int64_t cols) {
  for (std::int64_t r = r0; r < r1; ++r) forward_row(x + r * cols, b, y + r * cols, cols);
}
HUBKIT_MULTIVERSION void backward_rows(const float* g, const float* x, const float* b, float* gx,
                                       std::int64_t r0, std::int64_t r1, std::int64_t cols) {
  for (std::int64_t r = r0; r < r1; ++r)
    backward_row(g + r * cols, x + r * cols, b, gx + r * cols, cols);
}
HUBKIT_MULTIVERSION void backward_rows(const double* g, const double* x, const double* b,
                                       double* gx, std::int64_t r0, std::int64_t r1,
                                       std::int64_t cols) {
  for (std::int64_t r = r0; r < r1; ++r)
    backward_row(g + r * cols, x + r * cols, b, gx + r * cols, cols);
}

// Split rows over OpenMP threads; small tensors stay on one thread, where a
// fork/join would cost more than the work.
template <typename Fn>
void parallel_rows(std::int64_t rows, std::int64_t cols, Fn fn) {
#pragma omp parallel if (rows * cols > 65536)
  {
#ifdef HUBKIT_OPENMP
    const std::int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
#else
    const std::int64_t nt = 1, t = 0;
#endif
    fn(rows * t / nt, rows * (t + 1) / nt);
  }
}

template <typename T>
void forward(const T* x, const T* b, T* y, std::int64_t rows, std::int64_t cols) {
  parallel_rows(rows, cols, [&](std::int64_t r0, std::int64_t r1) {
    forward_rows(x, b, y, r0, r1, cols);
  });
}

template <typename T>
void backward(const T* g, const T* x, const T* b, T* gx, std::int64_t rows, std::int64_t cols) {
  parallel_rows(rows, cols, [&](std::int64_t r0, std::int64_t r1) {
    backward_rows(g, x, b, gx, r0, r1, cols);
  });
}

}  // namespace

void bias_gelu_forward_cpu(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                           std::int64_t rows, std::int64_t cols, int dtype) {
  switch (to_dtype(dtype)) {
    case DType::f32:
      return forward(as_ptr<const float>(x), as_ptr<const float>(bias), as_ptr<float>(out), rows, cols);
    case DType::f64:
      return forward(as_ptr<const double>(x), as_ptr<const double>(bias), as_ptr<double>(out), rows, cols);
    default:
      throw std::invalid_argument("bias_gelu (cpp): dtype must be float32 or float64");
  }
}

void bias_gelu_backward_cpu(std::uintptr_t grad_out, std::uintptr_t x, std::uintptr_t bias,
                            std::uintptr_t grad_in, std::int64_t rows, std::int64_t cols,
                            int dtype) {
  switch (to_dtype(dtype)) {
    case DType::f32:
      return backward(as_ptr<const float>(grad_out), as_ptr<const float>(x),
                      as_ptr<const float>(bias), as_ptr<float>(grad_in), rows, cols);
    case DType::f64:
      return backward(as_ptr<const double>(grad_out), as_ptr<const double>(x),
                      as_ptr<const double>(bias), as_ptr<double>(grad_in), rows, cols);
    default:
      throw std::invalid_argument("bias_gelu (cpp): dtype must be float32 or float64");
  }
}

}  // namespace hubkit
