// One LSTM layer over a whole sequence, forward and backward (gates i, f, g, o as torch).
#pragma once
#include <cstdint>

namespace hubkit {

// x (T, B, I); h0, c0 (B, H); w_ih (4H, I); w_hh (4H, H); bias (4H,) or 0.
// Writes y (T, B, H) and saved (T, B, 5H): activated gates i, f, g, o and c_t per step.
void lstm_forward_cpu(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0,
                      std::uintptr_t w_ih, std::uintptr_t w_hh, std::uintptr_t bias,
                      std::uintptr_t y, std::uintptr_t saved, std::int64_t T, std::int64_t B,
                      std::int64_t I, std::int64_t H, int dtype);

// Gradients of every input from grad_y (T, B, H), grad_hn and grad_cn (B, H), the
// forward's inputs and its y and saved. grad_bias may be 0 (no bias).
void lstm_backward_cpu(std::uintptr_t grad_y, std::uintptr_t grad_hn, std::uintptr_t grad_cn,
                       std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0,
                       std::uintptr_t w_ih, std::uintptr_t w_hh, std::uintptr_t y,
                       std::uintptr_t saved, std::uintptr_t grad_x, std::uintptr_t grad_h0,
                       std::uintptr_t grad_c0, std::uintptr_t grad_w_ih,
                       std::uintptr_t grad_w_hh, std::uintptr_t grad_bias, std::int64_t T,
                       std::int64_t B, std::int64_t I, std::int64_t H, int dtype);

}  // namespace hubkit
