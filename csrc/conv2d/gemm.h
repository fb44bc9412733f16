// A small packed, register-blocked, cache-tiled GEMM for the conv2d kernels.
//
//   C[M, N] (+)= A[M, K] @ B[K, N]
//
// A and B are read through (row stride, column stride) so the same routine
// multiplies transposed operands without copying them first; C is row-major
// with leading dimension ldc.
#pragma once
#include <cstdint>

namespace hubkit {

template <typename T>
struct MatView {
  const T* data;
  std::int64_t row_stride;
  std::int64_t col_stride;
};

// accumulate: C += A @ B instead of C = A @ B. threads > 1 splits the columns
// of C across OpenMP threads (call it from outside any parallel region).
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, MatView<float> a, MatView<float> b,
          float* c, std::int64_t ldc, bool accumulate, int threads);
void gemm(std::int64_t m, std::int64_t n, std::int64_t k, MatView<double> a, MatView<double> b,
          double* c, std::int64_t ldc, bool accumulate, int threads);

}  // namespace hubkit
