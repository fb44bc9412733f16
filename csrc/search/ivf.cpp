// IVF-Flat search in C++: the loop of hubkit.search.ivf.search_lists without Python.
//
// Queries run in parallel (OpenMP); each scans its nprobe lists, which sit
// contiguously in memory, through a vectorized dot and a heap of its k best.
#include "search/ivf.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "common.h"
#include "search/dot.h"
#include "search/topk_heap.h"

namespace hubkit::search {
namespace {

struct Lists {
  const float* const* vectors;
  const std::int64_t* const* rows;
  const std::int64_t* sizes;
  const bool* alive;
  std::int64_t D;
};

template <int W>
inline __attribute__((always_inline)) void scan_query(const Lists& L, const float* q,
                                                      const std::int64_t* probes,
                                                      std::int64_t nprobe, std::int64_t k,
                                                      float* out_s, std::int64_t* out_r) {
  std::vector<Hit> hits(static_cast<std::size_t>(k));
  std::int64_t size = 0;
  TopK heap{hits.data(), &size, k};
  for (std::int64_t p = 0; p < nprobe; ++p) {
    const std::int64_t c = probes[p];
    const float* vec = L.vectors[c];
    const std::int64_t* rows = L.rows[c];
    float thr = heap.threshold();
    for (std::int64_t i = 0; i < L.sizes[c]; ++i) {
      if (L.alive && !L.alive[rows[i]]) continue;
      const float s = dot<W>(q, vec + i * L.D, L.D);
      if (s < thr) continue;  // `<`: an equal score with a lower row must still be offered
      heap.push(s, rows[i]);
      thr = heap.threshold();
    }
  }
  std::sort(hits.begin(), hits.begin() + size, better);
  for (std::int64_t i = 0; i < k; ++i) {
    out_s[i] = i < size ? hits[i].score : -std::numeric_limits<float>::infinity();
    out_r[i] = i < size ? hits[i].index : -1;
  }
}

using ScanFn = void (*)(const Lists&, const float*, const std::int64_t*, std::int64_t,
                        std::int64_t, float*, std::int64_t*);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx512f"), flatten)) void scan_avx512(const Lists& L, const float* q, const std::int64_t* p, std::int64_t np, std::int64_t k, float* s, std::int64_t* r) { scan_query<16>(L, q, p, np, k, s, r); }
__attribute__((target("avx2,fma"), flatten)) void scan_avx2(const Lists& L, const float* q, const std::int64_t* p, std::int64_t np, std::int64_t k, float* s, std::int64_t* r) { scan_query<8>(L, q, p, np, k, s, r); }
#endif
__attribute__((flatten)) void scan_base(const Lists& L, const float* q, const std::int64_t* p, std::int64_t np, std::int64_t k, float* s, std::int64_t* r) { scan_query<4>(L, q, p, np, k, s, r); }

ScanFn pick_scan() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (__builtin_cpu_supports("avx512f")) return scan_avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return scan_avx2;
#endif
  return scan_base;
}

}  // namespace

void ivf_scan_cpu(std::uintptr_t queries, std::int64_t Q, std::int64_t D, std::uintptr_t probes,
                  std::int64_t nprobe, std::uintptr_t list_vectors, std::uintptr_t list_rows,
                  std::uintptr_t list_sizes, std::uintptr_t alive, std::int64_t k,
                  std::uintptr_t scores, std::uintptr_t rows) {
  const ScanFn scan = pick_scan();
  const Lists L{as_ptr<const float* const>(list_vectors), as_ptr<const std::int64_t* const>(list_rows),
                as_ptr<const std::int64_t>(list_sizes), alive ? as_ptr<const bool>(alive) : nullptr, D};
  const float* qp = as_ptr<const float>(queries);
  const std::int64_t* pp = as_ptr<const std::int64_t>(probes);
  float* out_s = as_ptr<float>(scores);
  std::int64_t* out_r = as_ptr<std::int64_t>(rows);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::int64_t q = 0; q < Q; ++q)
    scan(L, qp + q * D, pp + q * nprobe, nprobe, k, out_s + q * k, out_r + q * k);
}

}  // namespace hubkit::search
