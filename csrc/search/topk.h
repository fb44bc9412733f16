// Exact top-k similarity search: fused blocked dot products and a heap per query.
//
// Shapes: queries (Q, D), keys (N, D), float32, row-major; out scores (Q, k) float32,
// indices (Q, k) int64, best first; equal scores list the lower key index first.
// Python (python/hubkit/search/ops.py) checks 1 <= k <= N before calling.
#pragma once

#include <cstdint>

namespace hubkit::search {

void topk_similarity_cpu(std::uintptr_t queries, std::uintptr_t keys, std::uintptr_t scores,
                         std::uintptr_t indices, std::int64_t Q, std::int64_t N, std::int64_t D,
                         std::int64_t k, bool cosine);

}  // namespace hubkit::search
