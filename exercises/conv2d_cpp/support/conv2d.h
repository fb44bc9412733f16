// The function you write in conv2d.cpp (do not edit this header).
#pragma once
#include <cstdint>

// out[n, k, p, q] = bias[k] + sum over c < C/groups, r < R, s < S of
//     weight[k, c, r, s] * x[n, g*C/groups + c, p*stride - padding + r*dilation,
//                                                q*stride - padding + s*dilation]
// with g = k / (K/groups) and x read as 0 outside the image.
// x (N, C, H, W), weight (K, C/groups, R, S), bias (K,), out (N, K, P, Q):
// contiguous float32, handed over as addresses (tensor.data_ptr()).
void conv2d_forward(std::uintptr_t x, std::uintptr_t weight, std::uintptr_t bias,
                    std::uintptr_t out, std::int64_t n, std::int64_t c, std::int64_t h,
                    std::int64_t w, std::int64_t k, std::int64_t r, std::int64_t s,
                    std::int64_t p, std::int64_t q, std::int64_t stride, std::int64_t padding,
                    std::int64_t dilation, std::int64_t groups);
