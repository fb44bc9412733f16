// A bounded heap of the k best (score, index) hits, worst on top.
//
// "Better" is the one order every backend shares: higher score first, and for
// equal scores the lower index. NaN scores count as the worst possible score,
// so the order stays a strict weak order (std::sort and the heap need that).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace hubkit::search {

struct Hit {
  float score;
  std::int64_t index;
};

inline float rank_score(float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; }

inline bool better(const Hit& a, const Hit& b) {
  const float sa = rank_score(a.score), sb = rank_score(b.score);
  return sa > sb || (sa == sb && a.index < b.index);
}

// A view over k Hit slots plus a size; the caller owns the memory.
struct TopK {
  Hit* hits;
  std::int64_t* size;
  std::int64_t k;

  // subtle: with `better` as std's "less", the heap's top (hits[0]) is the worst hit.
  void push(float score, std::int64_t index) {
    const Hit h{score, index};
    if (*size < k) {
      hits[(*size)++] = h;
      std::push_heap(hits, hits + *size, better);
    } else if (better(h, hits[0])) {
      std::pop_heap(hits, hits + k, better);
      hits[k - 1] = h;
      std::push_heap(hits, hits + k, better);
    }
  }

  // Scores at or below this can be skipped without a push (-inf until the heap is full).
  float threshold() const {
    return *size < k ? -std::numeric_limits<float>::infinity() : rank_score(hits[0].score);
  }
};

}  // namespace hubkit::search
