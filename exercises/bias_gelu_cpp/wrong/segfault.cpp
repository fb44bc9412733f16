// Known wrong: writes through a null pointer (crashes the process).
#include "bias_gelu.h"

#include <cmath>
#include <cstring>

void bias_gelu_forward(std::uintptr_t, std::uintptr_t, std::uintptr_t, std::int64_t rows,
                       std::int64_t cols) {
  volatile float* p = nullptr;
  for (std::int64_t i = 0; i < rows * cols; ++i) p[i] = 1.0f;
}
