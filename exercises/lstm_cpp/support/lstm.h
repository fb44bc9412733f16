// The function you write in lstm.cpp (do not edit this header).
#pragma once
#include <cstdint>

// One LSTM layer over a whole sequence, float32, gates in torch's order i, f, g, o:
//   z_t = x_t w_ih^T + bias + h_{t-1} w_hh^T        (4H values per batch row)
//   c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g);   h_t = sigmoid(o) * tanh(c_t)
// x (T, B, I); h0, c0 (B, H); w_ih (4H, I); w_hh (4H, H); bias (4H,): inputs.
// y (T, B, H) gets every h_t; hn, cn (B, H) get the last h and c. All contiguous.
// The addresses are tensor.data_ptr() values handed over from Python.
void lstm_forward(std::uintptr_t x, std::uintptr_t h0, std::uintptr_t c0, std::uintptr_t w_ih,
                  std::uintptr_t w_hh, std::uintptr_t bias, std::uintptr_t y, std::uintptr_t hn,
                  std::uintptr_t cn, std::int64_t T, std::int64_t B, std::int64_t I,
                  std::int64_t H);
