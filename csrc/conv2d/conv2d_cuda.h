// CUDA conv2d: tiled implicit GEMM; same contract as conv2d.h plus a device and a stream.
#pragma once
#include <cstdint>
#include <vector>

namespace hubkit {

// dtype: f32, f16 or bf16 (float32 accumulation inside).
void conv2d_forward_cuda(std::uintptr_t x, std::uintptr_t w, std::uintptr_t bias,
                         std::uintptr_t y, const std::vector<std::int64_t>& dims, int dtype,
                         int device, std::uintptr_t stream);
void conv2d_backward_cuda(std::uintptr_t grad_y, std::uintptr_t x, std::uintptr_t w,
                          std::uintptr_t grad_x, std::uintptr_t grad_w, std::uintptr_t grad_b,
                          const std::vector<std::int64_t>& dims, int dtype,
                          int device, std::uintptr_t stream);

}  // namespace hubkit
