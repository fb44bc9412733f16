// One LSTM layer over a sequence in C++: the input projection for every step first,
// then the recurrence, one step at a time (each step needs the previous h).
#include "lstm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace {

inline float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

inline float dot(const float* a, const float* b, std::int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (std::int64_t k = 0; k < n; ++k) s += a[k] * b[k];
  return s;
}

}  // namespace

void lstm_forward(std::uintptr_t x_, std::uintptr_t h0_, std::uintptr_t c0_,
                  std::uintptr_t w_ih_, std::uintptr_t w_hh_, std::uintptr_t bias_,
                  std::uintptr_t y_, std::uintptr_t hn_, std::uintptr_t cn_, std::int64_t T,
                  std::int64_t B, std::int64_t I, std::int64_t H) {
  // BEGIN SOLUTION
  // starter> // Step 1: gates[t, b, :] = x[t, b, :] w_ih^T + bias for every step (no dependency
  // starter> //         between steps: one big parallel loop).
  // starter> // Step 2: for t in order: z = gates[t] + h w_hh^T for every batch row; then the
  // starter> //         gate math per hidden unit; write c, h and y[t].
  // starter> // Step 3: hn and cn are the last h and c.
  // starter> throw std::runtime_error("not implemented yet");
  const auto* x = reinterpret_cast<const float*>(x_);
  const auto* w_ih = reinterpret_cast<const float*>(w_ih_);
  const auto* w_hh = reinterpret_cast<const float*>(w_hh_);
  const auto* bias = reinterpret_cast<const float*>(bias_);
  auto* y = reinterpret_cast<float*>(y_);
  const std::int64_t G = 4 * H;
  std::vector<float> gates(T * B * G);
#pragma omp parallel for collapse(2)
  for (std::int64_t r = 0; r < T * B; ++r)
    for (std::int64_t j = 0; j < G; ++j)
      gates[r * G + j] = bias[j] + dot(x + r * I, w_ih + j * I, I);
  std::vector<float> h(reinterpret_cast<const float*>(h0_),
                       reinterpret_cast<const float*>(h0_) + B * H);
  std::vector<float> c(reinterpret_cast<const float*>(c0_),
                       reinterpret_cast<const float*>(c0_) + B * H);
  std::vector<float> z(B * G);
  for (std::int64_t t = 0; t < T; ++t) {
    // z needs all of the previous h, so h is updated only after this loop.
#pragma omp parallel for collapse(2)
    for (std::int64_t b = 0; b < B; ++b)
      for (std::int64_t j = 0; j < G; ++j)
        z[b * G + j] = gates[(t * B + b) * G + j] + dot(h.data() + b * H, w_hh + j * H, H);
    for (std::int64_t b = 0; b < B; ++b) {
      const float* zb = z.data() + b * G;
      for (std::int64_t u = 0; u < H; ++u) {
        const float i = sigmoid(zb[u]), f = sigmoid(zb[H + u]);
        const float g = std::tanh(zb[2 * H + u]), o = sigmoid(zb[3 * H + u]);
        c[b * H + u] = f * c[b * H + u] + i * g;
        h[b * H + u] = o * std::tanh(c[b * H + u]);
        y[(t * B + b) * H + u] = h[b * H + u];
      }
    }
  }
  std::copy(h.begin(), h.end(), reinterpret_cast<float*>(hn_));
  std::copy(c.begin(), c.end(), reinterpret_cast<float*>(cn_));
  // END SOLUTION
}
