// Known wrong: the tanh approximation of GELU, not the exact erf form the exercise asks for.
#include "bias_gelu.h"

#include <cmath>
#include <cstring>

void bias_gelu_forward(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                       std::int64_t rows, std::int64_t cols) {
  const float* xp = reinterpret_cast<const float*>(x);
  const float* bp = reinterpret_cast<const float*>(bias);
  float* yp = reinterpret_cast<float*>(out);
  for (std::int64_t i = 0; i < rows * cols; ++i) {
    const float z = xp[i] + bp[i % cols];
    yp[i] = 0.5f * z * (1.0f + std::tanh(0.7978845608f * (z + 0.044715f * z * z * z)));
  }
}
