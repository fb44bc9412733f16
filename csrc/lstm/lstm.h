// The recurrence of one LSTM layer over a whole sequence, forward and backward (gates
// i, f, g, o as torch). The whole-sequence GEMMs (input projection, weight and input
// gradients) are the caller's: see python/hubkit/rnn/ops.py.
#pragma once
#include <cstdint>

namespace hubkit {

// saved (T, B, 5H) holds x W_ih^T in its first 4H columns on entry; bias (4H,) or 0;
// h0, c0 (B, H); w_hh (4H, H). Writes y (T, B, H) and saved: activated gates i, f, g,
// o and c_t per step.
void lstm_forward_cpu(std::uintptr_t bias, std::uintptr_t h0, std::uintptr_t c0,
                      std::uintptr_t w_hh, std::uintptr_t y, std::uintptr_t saved,
                      std::int64_t T, std::int64_t B, std::int64_t H, int dtype);

// BPTT from grad_y (T, B, H), grad_hn and grad_cn (B, H) and the forward's saved:
// writes dz (T, B, 4H), the pre-activation gate gradients of every step, and
// grad_h0, grad_c0 (B, H).
void lstm_backward_cpu(std::uintptr_t grad_y, std::uintptr_t grad_hn, std::uintptr_t grad_cn,
                       std::uintptr_t c0, std::uintptr_t w_hh, std::uintptr_t saved,
                       std::uintptr_t dz, std::uintptr_t grad_h0, std::uintptr_t grad_c0,
                       std::int64_t T, std::int64_t B, std::int64_t H, int dtype);

}  // namespace hubkit
