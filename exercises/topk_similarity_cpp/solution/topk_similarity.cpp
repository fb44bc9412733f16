// Exact top-k similarity on the CPU, fused: score a key, offer it to the query's heap, move on.
//
// No (Q, N) score matrix: each query keeps a heap of its k best hits so far, with
// the worst of them on top, so a new score needs one comparison to be rejected.
#include "topk_similarity.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace {

struct Hit {
  float score;
  std::int64_t index;
};

// The order of the results: higher score first, then the lower index.
bool better(const Hit& a, const Hit& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

float dot(const float* a, const float* b, std::int64_t D) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (std::int64_t d = 0; d < D; ++d) s += a[d] * b[d];
  return s;
}

float inverse_norm(const float* x, std::int64_t D) {
  return 1.0f / std::max(std::sqrt(dot(x, x, D)), 1e-12f);
}

}  // namespace

void topk_similarity_forward(std::uintptr_t queries, std::uintptr_t keys, std::uintptr_t scores,
                             std::uintptr_t indices, std::int64_t Q, std::int64_t N,
                             std::int64_t D, std::int64_t k, bool cosine) {
  // BEGIN SOLUTION
  // starter> // Step 1: pointers from the addresses; for cosine, 1 / max(|key|, 1e-12) of every key.
  // starter> // Step 2: per query (in parallel): a heap of k Hits, the worst on top
  // starter> //         (std::push_heap / std::pop_heap with `better` as the comparison).
  // starter> // Step 3: score every key; push while the heap has < k hits, else replace the
  // starter> //         top when the new hit is better.
  // starter> // Step 4: sort the heap best first and write scores and indices.
  // starter> throw std::runtime_error("not implemented yet");
  const float* qp = reinterpret_cast<const float*>(queries);
  const float* kp = reinterpret_cast<const float*>(keys);
  float* out_s = reinterpret_cast<float*>(scores);
  std::int64_t* out_i = reinterpret_cast<std::int64_t*>(indices);
  std::vector<float> key_scale(cosine ? N : 0);
#pragma omp parallel for schedule(static)
  for (std::int64_t n = 0; n < static_cast<std::int64_t>(key_scale.size()); ++n)
    key_scale[n] = inverse_norm(kp + n * D, D);
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t q = 0; q < Q; ++q) {
    const float* query = qp + q * D;
    const float q_scale = cosine ? inverse_norm(query, D) : 1.0f;
    std::vector<Hit> heap;  // `better` as std's "less": the front is the worst hit
    heap.reserve(k);
    for (std::int64_t n = 0; n < N; ++n) {
      float s = dot(query, kp + n * D, D);
      if (cosine) s *= q_scale * key_scale[n];
      const Hit hit{s, n};
      if (static_cast<std::int64_t>(heap.size()) < k) {
        heap.push_back(hit);
        std::push_heap(heap.begin(), heap.end(), better);
      } else if (better(hit, heap.front())) {
        std::pop_heap(heap.begin(), heap.end(), better);
        heap.back() = hit;
        std::push_heap(heap.begin(), heap.end(), better);
      }
    }
    std::sort(heap.begin(), heap.end(), better);
    for (std::int64_t i = 0; i < k; ++i) {
      out_s[q * k + i] = heap[i].score;
      out_i[q * k + i] = heap[i].index;
    }
  }
  // END SOLUTION
}
