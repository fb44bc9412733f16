// 2D convolution on the CPU: im2col + packed GEMM, forward and backward.
#pragma once
#include <cstdint>
#include <vector>

namespace hubkit {

// dims (16 ints): N, C, H, W, K, R, S, P, Q, stride_h, stride_w, pad_h, pad_w,
// dil_h, dil_w, groups. x (N, C, H, W), w (K, C/groups, R, S), bias (K,) or 0,
// y (N, K, P, Q): all contiguous, dtype f32 or f64.
void conv2d_forward_cpu(std::uintptr_t x, std::uintptr_t w, std::uintptr_t bias,
                        std::uintptr_t y, const std::vector<std::int64_t>& dims, int dtype);

// Gradients: grad_x (N, C, H, W), grad_w (K, C/groups, R, S), grad_b (K,);
// a zero address skips that gradient.
void conv2d_backward_cpu(std::uintptr_t grad_y, std::uintptr_t x, std::uintptr_t w,
                         std::uintptr_t grad_x, std::uintptr_t grad_w, std::uintptr_t grad_b,
                         const std::vector<std::int64_t>& dims, int dtype);

}  // namespace hubkit
