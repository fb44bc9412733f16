// Winograd convolution F(m x m, 3 x 3) on the CPU (m = 2 or 4), stride 1, dilation 1,
// groups 1: see winograd.cpp for the algorithm and the data layouts.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace pybind11 { class module_; }

namespace hubkit::winograd {

// Elements of the packed filter transform U for k_out output and c_in input channels.
std::int64_t filter_size(std::int64_t k_out, std::int64_t c_in, int m, int dtype);

// w (K, C, 3, 3) -> U. flip: transform the filters of the input gradient instead,
// w'[c][k] = w[k][c] rotated by 180 degrees (C outputs, K inputs).
void filter_transform(std::uintptr_t w, std::uintptr_t u, std::int64_t k, std::int64_t c,
                      bool flip, int m, int dtype);

// y (N, K, P, Q) = x (N, C, H, W) correlated with the filters packed in U (+ bias).
// dims: N, C, H, W, K, P, Q, pad_h, pad_w (pads may be negative: rows cut off).
// isa: "auto", or "avx512", "avx2", "base" to run that compiled path (for tests).
void forward(std::uintptr_t x, std::uintptr_t u, std::uintptr_t bias, std::uintptr_t y,
             const std::vector<std::int64_t>& dims, int m, int dtype,
             const std::string& isa = "auto");

// grad_w (K, C, 3, 3) of `forward` for x and grad_y (N, K, P, Q); same dims.
void grad_weight(std::uintptr_t x, std::uintptr_t grad_y, std::uintptr_t grad_w,
                 const std::vector<std::int64_t>& dims, int m, int dtype,
                 const std::string& isa = "auto");

void bind_winograd(pybind11::module_& m);

}  // namespace hubkit::winograd
