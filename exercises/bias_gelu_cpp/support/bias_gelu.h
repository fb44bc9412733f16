// The function you write in bias_gelu.cpp (do not edit this header).
#pragma once
#include <cstdint>

// out[r, c] = gelu(x[r, c] + bias[c]) for r < rows, c < cols.
// x, out: rows * cols contiguous float32 values; bias: cols float32 values.
// The addresses are tensor.data_ptr() values handed over from Python.
void bias_gelu_forward(std::uintptr_t x, std::uintptr_t bias, std::uintptr_t out,
                       std::int64_t rows, std::int64_t cols);
