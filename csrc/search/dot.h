// A vectorized float32 dot product, for code compiled per instruction set.
//
// W is the vector width in floats (16: AVX-512, 8: AVX2, 4: baseline); the caller
// inlines it into a function with the matching target attribute.
#pragma once

#include <cstdint>
#include <cstring>

namespace hubkit::search {

template <int W>
inline __attribute__((always_inline)) float dot(const float* a, const float* b, std::int64_t D) {
  typedef float vec __attribute__((vector_size(W * sizeof(float))));
  vec acc0{}, acc1{};
  std::int64_t d = 0;
  for (; d + 2 * W <= D; d += 2 * W) {
    vec a0, b0, a1, b1;
    std::memcpy(&a0, a + d, sizeof(vec));
    std::memcpy(&b0, b + d, sizeof(vec));
    std::memcpy(&a1, a + d + W, sizeof(vec));
    std::memcpy(&b1, b + d + W, sizeof(vec));
    acc0 += a0 * b0;
    acc1 += a1 * b1;
  }
  acc0 += acc1;
  float lanes[W];
  std::memcpy(lanes, &acc0, sizeof(lanes));  // subtle: no acc0[l]: GCC types it float here
  float s = 0.0f;
  for (int l = 0; l < W; ++l) s += lanes[l];
  for (; d < D; ++d) s += a[d] * b[d];
  return s;
}

}  // namespace hubkit::search
