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

// Forward on tensor cores (conv2d_tc.cu, sm_80+): x as (N, H, W, C) and weight as
// (K, R, S, C/groups), channels innermost; y (N, K, P, Q). dtype f16 or bf16, or f32
// computed as TF32 (the caller opts in). Every tensor under 2^31 elements.
void conv2d_forward_tc_cuda(std::uintptr_t x_nhwc, std::uintptr_t w_krsc, std::uintptr_t bias,
                            std::uintptr_t y, const std::vector<std::int64_t>& dims, int dtype,
                            int device, std::uintptr_t stream);
// grad_weight on tensor cores: grad_y as (N, P, Q, K), x as (N, H, W, C); adds into ws,
// a zeroed float32 (K, R, S, C/groups). Same dtypes and limits as the forward.
void conv2d_grad_weight_tc_cuda(std::uintptr_t gy_nhwc, std::uintptr_t x_nhwc, std::uintptr_t ws,
                                const std::vector<std::int64_t>& dims, int dtype, int device,
                                std::uintptr_t stream);

}  // namespace hubkit
