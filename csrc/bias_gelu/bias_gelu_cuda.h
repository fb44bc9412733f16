// CUDA fused bias + GELU; same contract as bias_gelu.h plus a device and a stream.
#pragma once
#include <cstdint>

namespace hubkit {

// dtype: f32, f16 or bf16 (float32 math inside).
void bias_gelu_forward_cuda(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                            std::int64_t rows, std::int64_t cols, int dtype,
                            int device, std::uintptr_t stream);
void bias_gelu_backward_cuda(std::uintptr_t grad_out, std::uintptr_t x, std::uintptr_t bias,
                             std::uintptr_t grad_in, std::int64_t rows, std::int64_t cols,
                             int dtype, int device, std::uintptr_t stream);

}  // namespace hubkit
