// Fused bias + GELU (exact, erf form): y = gelu(x + b), b broadcast over rows.
#pragma once
#include <cstdint>

namespace hubkit {

// x, out: (rows, cols) contiguous; bias: (cols,). dtype: f32 or f64.
void bias_gelu_forward_cpu(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                           std::int64_t rows, std::int64_t cols, int dtype);

// grad_in = grad_out * gelu'(x + b); same layouts as the forward.
void bias_gelu_backward_cpu(std::uintptr_t grad_out, std::uintptr_t x, std::uintptr_t bias,
                            std::uintptr_t grad_in, std::int64_t rows, std::int64_t cols,
                            int dtype);

}  // namespace hubkit
