// Known wrong: zero-fills, then computes only the first 64-column tile of each row.
#include "bias_gelu.h"

#include <cmath>
#include <cstring>

void bias_gelu_forward(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                       std::int64_t rows, std::int64_t cols) {
  const float* xp = reinterpret_cast<const float*>(x);
  const float* bp = reinterpret_cast<const float*>(bias);
  float* yp = reinterpret_cast<float*>(out);
  std::memset(yp, 0, sizeof(float) * rows * cols);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols && c < 64; ++c) {
      const float z = xp[r * cols + c] + bp[c];
      yp[r * cols + c] = 0.5f * z * (1.0f + std::erf(z * 0.70710678f));
    }
}
