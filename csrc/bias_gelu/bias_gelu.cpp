// CPU kernels for fused bias + GELU. One pass over memory: the row loop is
// split across OpenMP threads and the inner loop is a plain counted loop over
// contiguous data, which GCC and Clang vectorize (erf included via libmvec
// when -fno-math-errno is on).
#include "bias_gelu/bias_gelu.h"

#include <cmath>

#include "common.h"

namespace hubkit {
namespace {

template <typename T>
void forward(const T* x, const T* b, T* y, std::int64_t rows, std::int64_t cols) {
  const T inv_sqrt2 = T(0.70710678118654752440);
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    for (std::int64_t c = 0; c < cols; ++c) {
      const T z = xr[c] + b[c];
      yr[c] = T(0.5) * z * (T(1) + std::erf(z * inv_sqrt2));
    }
  }
}

template <typename T>
void backward(const T* g, const T* x, const T* b, T* gx, std::int64_t rows, std::int64_t cols) {
  const T inv_sqrt2 = T(0.70710678118654752440);
  const T inv_sqrt_2pi = T(0.39894228040143267794);
#pragma omp parallel for schedule(static) if (rows * cols > 32768)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* gr = g + r * cols;
    const T* xr = x + r * cols;
    T* out = gx + r * cols;
    for (std::int64_t c = 0; c < cols; ++c) {
      const T z = xr[c] + b[c];
      // d/dz [z * Phi(z)] = Phi(z) + z * phi(z)
      const T cdf = T(0.5) * (T(1) + std::erf(z * inv_sqrt2));
      const T pdf = inv_sqrt_2pi * std::exp(T(-0.5) * z * z);
      out[c] = gr[c] * (cdf + z * pdf);
    }
  }
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
