// The function you write in topk_similarity.cpp (do not edit this header).
#pragma once
#include <cstdint>

// For each query q < Q, the k keys with the highest similarity, best first:
//   scores[q * k + i] (float32) and indices[q * k + i] (int64), i < k,
// where similarity is the inner product (cosine false) or the cosine (true:
// the inner product divided by max(|query|, 1e-12) * max(|key|, 1e-12)).
// Equal scores list the lower key index first.
// queries: Q * D float32 values, keys: N * D, both row-major; 1 <= k <= N.
// The addresses are tensor.data_ptr() values handed over from Python.
void topk_similarity_forward(std::uintptr_t queries, std::uintptr_t keys, std::uintptr_t scores,
                             std::uintptr_t indices, std::int64_t Q, std::int64_t N,
                             std::int64_t D, std::int64_t k, bool cosine);
