// Known wrong: writes zeros instead of the activation.
#include "bias_gelu.h"

#include <cmath>
#include <cstring>

void bias_gelu_forward(std::uintptr_t, std::uintptr_t, std::uintptr_t out, std::int64_t rows,
                       std::int64_t cols) {
  std::memset(reinterpret_cast<float*>(out), 0, sizeof(float) * rows * cols);
}
