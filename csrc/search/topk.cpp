// Exact top-k similarity, fused: no (Q, N) score matrix, one pass over the keys.
//
// Work is split into tasks, (block of KEY_BLOCK keys) x (group of queries), spread
// over OpenMP threads; each thread keeps its own heap per query, and the heaps
// are merged at the end, so the result does not depend on the thread count.
//
// Inside a task the query group is packed d-major, (D, G) with G = NV * W lanes,
// and a register tile of KT keys x G queries is accumulated by broadcasting one
// key element against W query lanes at a time (an outer product per d):
// no horizontal sums, no packing of the keys, and each key row is read once per
// query group. The tile's scores then go through a threshold test, and only
// the few that beat a query's current k-th best reach its heap.
//
// The tile code is compiled three times (AVX-512, AVX2+FMA, baseline x86-64/other)
// and the widest one the CPU supports is picked once at run time.
#include "search/topk.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common.h"
#include "search/topk_heap.h"

namespace hubkit::search {
namespace {

constexpr std::int64_t KEY_BLOCK = 256;  // 384 KiB of keys at D=384: stays in L2
constexpr float NORM_EPS = 1e-12f;       // as torch.nn.functional.normalize

struct Problem {
  const float* keys;
  const float* packed;      // per query group: (D, G) queries, d-major, zero-padded lanes
  const float* key_scale;   // (N,) 1/|key| for cosine, or nullptr
  std::int64_t Q, N, D, k, group;
};

// Per-thread state: one heap per query plus a score buffer for one tile.
struct ThreadHeaps {
  std::vector<Hit> hits;
  std::vector<std::int64_t> sizes;
  std::vector<float> tile;
  TopK heap(std::int64_t q, std::int64_t k) { return TopK{hits.data() + q * k, sizes.data() + q, k}; }
};

// Scores of KT keys (rows `key`, `key`+1, ...) against the first NV*W lanes of the packed
// queries (D, G), G = `stride`: out (KT, NV*W).
template <int W, int NV, int KT>
inline __attribute__((always_inline)) void score_tile(const float* packed, std::int64_t stride,
                                                      const float* key, std::int64_t D,
                                                      float* out) {
  typedef float vec __attribute__((vector_size(W * sizeof(float))));
  vec acc[KT][NV];
  for (int j = 0; j < KT; ++j)
    for (int v = 0; v < NV; ++v) acc[j][v] = vec{} ;
  for (std::int64_t d = 0; d < D; ++d) {
    vec q[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&q[v], packed + d * stride + v * W, sizeof(vec));
    for (int j = 0; j < KT; ++j) {
      const float kd = key[j * D + d];
      for (int v = 0; v < NV; ++v) acc[j][v] += q[v] * kd;
    }
  }
  for (int j = 0; j < KT; ++j)
    for (int v = 0; v < NV; ++v) std::memcpy(out + (j * NV + v) * W, &acc[j][v], sizeof(vec));
}

// Offer the tile's scores (KT keys from `first`, G lanes from query `q0`) to the heaps.
inline void offer(const Problem& p, ThreadHeaps& th, const float* tile, int kt, int lanes,
                  std::int64_t first, std::int64_t q0) {
  const std::int64_t live = std::min<std::int64_t>(lanes, p.Q - q0);
  for (std::int64_t l = 0; l < live; ++l) {
    TopK heap = th.heap(q0 + l, p.k);
    float thr = heap.threshold();
    for (int j = 0; j < kt; ++j) {
      float s = tile[j * lanes + l];
      if (p.key_scale) s *= p.key_scale[first + j];
      // subtle: `<` not `<=`: an equal score with a lower index must still reach the heap.
      if (s < thr) continue;
      heap.push(s, first + j);
      thr = heap.threshold();
    }
  }
}

template <int W, int NV, int KT>
inline __attribute__((always_inline)) void run_task_nv(const Problem& p, ThreadHeaps& th,
                                                       std::int64_t block, std::int64_t group) {
  constexpr int G = NV * W;  // lanes computed; the packed group may be wider
  const float* packed = p.packed + group * p.D * p.group;
  const std::int64_t q0 = group * p.group;
  const std::int64_t start = block * KEY_BLOCK, stop = std::min(p.N, start + KEY_BLOCK);
  std::int64_t key = start;
  for (; key + KT <= stop; key += KT) {
    score_tile<W, NV, KT>(packed, p.group, p.keys + key * p.D, p.D, th.tile.data());
    offer(p, th, th.tile.data(), KT, G, key, q0);
  }
  for (; key < stop; ++key) {
    score_tile<W, NV, 1>(packed, p.group, p.keys + key * p.D, p.D, th.tile.data());
    offer(p, th, th.tile.data(), 1, G, key, q0);
  }
}

// One task, for vector width W and KT keys per tile; NV follows the group's live queries.
template <int W, int KT>
inline __attribute__((always_inline)) void run_task(const Problem& p, ThreadHeaps& th,
                                                    std::int64_t block, std::int64_t group) {
  const std::int64_t live = std::min(p.group, p.Q - group * p.group);
  switch ((live + W - 1) / W) {
    case 1: return run_task_nv<W, 1, KT>(p, th, block, group);
    case 2: return run_task_nv<W, 2, KT>(p, th, block, group);
    case 3: return run_task_nv<W, 3, KT>(p, th, block, group);
    default: return run_task_nv<W, 4, KT>(p, th, block, group);
  }
}

using TaskFn = void (*)(const Problem&, ThreadHeaps&, std::int64_t, std::int64_t);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx512f"))) void task_avx512(const Problem& p, ThreadHeaps& th,
                                                    std::int64_t b, std::int64_t g) {
  run_task<16, 6>(p, th, b, g);  // 24 accumulators + 4 query vectors of 32 zmm
}
__attribute__((target("avx2,fma"))) void task_avx2(const Problem& p, ThreadHeaps& th,
                                                  std::int64_t b, std::int64_t g) {
  run_task<8, 2>(p, th, b, g);  // 8 accumulators + 4 query vectors of 16 ymm
}
#endif
void task_base(const Problem& p, ThreadHeaps& th, std::int64_t b, std::int64_t g) {
  run_task<4, 2>(p, th, b, g);
}

// The widest tile code this CPU runs, and its query group size (4 vectors).
std::pair<TaskFn, std::int64_t> pick_task() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (__builtin_cpu_supports("avx512f")) return {task_avx512, 64};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {task_avx2, 32};
#endif
  return {task_base, 16};
}

float inverse_norm(const float* x, std::int64_t D) {
  double ss = 0;
  for (std::int64_t d = 0; d < D; ++d) ss += static_cast<double>(x[d]) * x[d];
  return 1.0f / std::max(static_cast<float>(std::sqrt(ss)), NORM_EPS);
}

// Queries (Q, D) -> per group of G: (D, G) d-major, scaled to unit norm for cosine.
std::vector<float> pack_queries(const float* queries, std::int64_t Q, std::int64_t D,
                                std::int64_t G, bool cosine) {
  const std::int64_t groups = (Q + G - 1) / G;
  std::vector<float> packed(static_cast<std::size_t>(groups * D * G), 0.0f);
  for (std::int64_t q = 0; q < Q; ++q) {
    const float* row = queries + q * D;
    const float scale = cosine ? inverse_norm(row, D) : 1.0f;
    float* dst = packed.data() + (q / G) * D * G + q % G;
    for (std::int64_t d = 0; d < D; ++d) dst[d * G] = row[d] * scale;
  }
  return packed;
}

// The best k of every thread's heap for query q, written to its output row.
void merge_query(std::vector<ThreadHeaps>& heaps, std::int64_t q, std::int64_t k,
                 float* scores, std::int64_t* indices) {
  std::vector<Hit> all;
  for (auto& th : heaps) all.insert(all.end(), th.hits.begin() + q * k,
                                    th.hits.begin() + q * k + th.sizes[q]);
  const std::int64_t n = std::min<std::int64_t>(k, all.size());
  std::partial_sort(all.begin(), all.begin() + n, all.end(), better);
  for (std::int64_t i = 0; i < k; ++i) {  // fewer than k only if scores were NaN
    scores[q * k + i] = i < n ? all[i].score : std::numeric_limits<float>::quiet_NaN();
    indices[q * k + i] = i < n ? all[i].index : -1;
  }
}

}  // namespace

void topk_similarity_cpu(std::uintptr_t queries, std::uintptr_t keys, std::uintptr_t scores,
                         std::uintptr_t indices, std::int64_t Q, std::int64_t N, std::int64_t D,
                         std::int64_t k, bool cosine) {
  const auto [task, G] = pick_task();
  const float* key_ptr = as_ptr<const float>(keys);
  const std::vector<float> packed = pack_queries(as_ptr<const float>(queries), Q, D, G, cosine);
  std::vector<float> key_scale;
  if (cosine) {
    key_scale.resize(static_cast<std::size_t>(N));
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < N; ++i) key_scale[i] = inverse_norm(key_ptr + i * D, D);
  }
  const Problem p{key_ptr, packed.data(), cosine ? key_scale.data() : nullptr, Q, N, D, k, G};
  const std::int64_t blocks = (N + KEY_BLOCK - 1) / KEY_BLOCK, groups = (Q + G - 1) / G;
  std::vector<ThreadHeaps> heaps(static_cast<std::size_t>(num_threads()));
  for (auto& th : heaps) {  // sized here, so a thread that gets no task still merges cleanly
    th.hits.resize(static_cast<std::size_t>(Q * k));
    th.sizes.assign(static_cast<std::size_t>(Q), 0);
    th.tile.resize(static_cast<std::size_t>(8 * G));
  }
#pragma omp parallel
  {
#ifdef HUBKIT_OPENMP
    ThreadHeaps& th = heaps[omp_get_thread_num()];
#else
    ThreadHeaps& th = heaps[0];
#endif
    // Block-major order: a thread's contiguous share sees each block once for all groups.
#pragma omp for schedule(static)
    for (std::int64_t t = 0; t < blocks * groups; ++t) task(p, th, t / groups, t % groups);
  }
  float* out_s = as_ptr<float>(scores);
  std::int64_t* out_i = as_ptr<std::int64_t>(indices);
#pragma omp parallel for schedule(static)
  for (std::int64_t q = 0; q < Q; ++q) merge_query(heaps, q, k, out_s, out_i);
}

}  // namespace hubkit::search
