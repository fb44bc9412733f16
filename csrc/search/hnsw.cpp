// HNSW build and search: the algorithm of python/hubkit/search/hnsw.py, in C++.
//
// Inner products go through a vectorized dot; the search code is compiled for
// AVX-512, AVX2+FMA and the baseline (flatten: each entry point inlines all of
// it) and the widest the CPU runs is picked once. Queries run in parallel
// (OpenMP); inserts run one after another, so a build is reproducible.
#include "search/hnsw.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <queue>

#include "common.h"
#include "search/dot.h"

namespace hubkit::search {
namespace {

// Heap orders: candidates pop the most similar first; results keep the least similar on top.
struct WorseFirst {
  bool operator()(const Cand& a, const Cand& b) const {
    return a.sim < b.sim || (a.sim == b.sim && a.node > b.node);
  }
};
struct BetterFirst {
  bool operator()(const Cand& a, const Cand& b) const {
    return a.sim > b.sim || (a.sim == b.sim && a.node < b.node);
  }
};
using CandQueue = std::priority_queue<Cand, std::vector<Cand>, WorseFirst>;   // top: best
using ResultQueue = std::priority_queue<Cand, std::vector<Cand>, BetterFirst>;  // top: worst

// Marks of visited nodes; a new epoch forgets them all without clearing.
struct Visited {
  std::vector<std::uint32_t> mark;
  std::uint32_t epoch = 0;
  explicit Visited(std::int64_t n) : mark(static_cast<std::size_t>(n), 0) {}
  void reset() {
    if (++epoch == 0) {
      std::fill(mark.begin(), mark.end(), 0);
      epoch = 1;
    }
  }
  bool test_and_set(std::int32_t i) {
    if (mark[i] == epoch) return true;
    mark[i] = epoch;
    return false;
  }
};

template <int W>
struct Walker {
  const HNSW& g;
  Visited& visited;

  float sim(const float* q, std::int32_t node) const {
    return dot<W>(q, g.vec_.data() + node * g.dim(), g.dim());
  }

  // Best-first search on one layer, the ef best (live) nodes, best first (Algorithm 2).
  std::vector<Cand> search_layer(const float* q, const std::vector<std::int32_t>& entries,
                                 std::int64_t ef, int layer, const bool* alive) {
    visited.reset();
    CandQueue cand;
    ResultQueue best;
    for (auto e : entries) {
      visited.test_and_set(e);
      const Cand c{sim(q, e), e};
      cand.push(c);
      if (!alive || alive[e]) best.push(c);
      if (static_cast<std::int64_t>(best.size()) > ef) best.pop();
    }
    while (!cand.empty()) {
      const Cand c = cand.top();
      if (static_cast<std::int64_t>(best.size()) >= ef && c.sim < best.top().sim) break;
      cand.pop();
      const std::int32_t* lk = g.links(c.node, layer);
      for (std::int32_t j = 1; j <= lk[0]; ++j) {
        const std::int32_t n = lk[j];
        if (visited.test_and_set(n)) continue;
        __builtin_prefetch(g.vec_.data() + (j < lk[0] ? lk[j + 1] : n) * g.dim());
        const float s = sim(q, n);
        if (static_cast<std::int64_t>(best.size()) < ef || s > best.top().sim) {
          cand.push({s, n});
          if (!alive || alive[n]) {
            best.push({s, n});
            if (static_cast<std::int64_t>(best.size()) > ef) best.pop();
          }
        }
      }
    }
    std::vector<Cand> out;
    out.reserve(best.size());
    for (; !best.empty(); best.pop()) out.push_back(best.top());
    std::reverse(out.begin(), out.end());
    return out;
  }

  // Greedy descent from the entry point to `stop` + 1 (ef = 1 on each upper layer).
  std::int32_t descend(const float* q, int stop) {
    std::int32_t ep = g.entry_;
    for (int layer = g.max_level_; layer > stop; --layer) ep = search_layer(q, {ep}, 1, layer, nullptr)[0].node;
    return ep;
  }

  // Up to m of the candidates (best first), skipping one more similar to a chosen
  // neighbour than to the base (Algorithm 4, the heuristic).
  std::vector<std::int32_t> select(const std::vector<Cand>& cands, int m) const {
    std::vector<std::int32_t> chosen;
    for (const Cand& c : cands) {
      if (static_cast<int>(chosen.size()) == m) break;
      const float* v = g.vec_.data() + c.node * g.dim();
      bool keep = true;
      for (auto r : chosen) keep = keep && sim(v, r) <= c.sim;
      if (keep) chosen.push_back(c.node);
    }
    return chosen;
  }
};

template <int W>
void link_back(HNSW& g, std::int32_t node, std::int32_t nb, int layer, Visited& visited) {
  std::int32_t* lk = g.links(nb, layer);
  if (lk[0] < g.max_links(layer)) {
    lk[++lk[0]] = node;
    return;
  }
  Walker<W> w{g, visited};
  const float* v = g.vec_.data() + nb * g.dim();
  std::vector<Cand> cands;
  for (std::int32_t j = 1; j <= lk[0]; ++j) cands.push_back({w.sim(v, lk[j]), lk[j]});
  cands.push_back({w.sim(v, node), node});
  std::sort(cands.begin(), cands.end(), BetterFirst());
  const auto kept = w.select(cands, g.max_links(layer));
  lk[0] = static_cast<std::int32_t>(kept.size());
  std::copy(kept.begin(), kept.end(), lk + 1);
}

template <int W>
inline __attribute__((always_inline)) void insert(HNSW& g, std::int32_t node, Visited& visited) {
  const float* q = g.vec_.data() + node * g.dim();
  const int level = g.level_[node];
  if (g.entry_ < 0) {
    g.entry_ = node;
    g.max_level_ = level;
    return;
  }
  Walker<W> w{g, visited};
  std::vector<std::int32_t> eps{w.descend(q, level)};
  for (int layer = std::min(level, g.max_level_); layer >= 0; --layer) {
    const auto cands = w.search_layer(q, eps, g.efc(), layer, nullptr);
    const auto chosen = w.select(cands, g.M());
    std::int32_t* lk = g.links(node, layer);
    lk[0] = static_cast<std::int32_t>(chosen.size());
    std::copy(chosen.begin(), chosen.end(), lk + 1);
    for (auto nb : chosen) link_back<W>(g, node, nb, layer, visited);
    eps.clear();
    for (const Cand& c : cands) eps.push_back(c.node);
  }
  if (level > g.max_level_) {
    g.entry_ = node;
    g.max_level_ = level;
  }
}

template <int W>
inline __attribute__((always_inline)) void search_one(const HNSW& g, const float* q,
                                                      std::int64_t k, std::int64_t ef,
                                                      const bool* alive, Visited& visited,
                                                      float* sims, std::int64_t* nodes) {
  Walker<W> w{g, visited};
  const auto found = w.search_layer(q, {w.descend(q, 0)}, std::max(ef, k), 0, alive);
  for (std::int64_t i = 0; i < k; ++i) {
    const bool have = i < static_cast<std::int64_t>(found.size());
    sims[i] = have ? found[i].sim : -std::numeric_limits<float>::infinity();
    nodes[i] = have ? found[i].node : -1;
  }
}

using InsertFn = void (*)(HNSW&, std::int32_t, Visited&);
using SearchFn = void (*)(const HNSW&, const float*, std::int64_t, std::int64_t, const bool*,
                          Visited&, float*, std::int64_t*);

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx512f"), flatten)) void insert_avx512(HNSW& g, std::int32_t n, Visited& v) { insert<16>(g, n, v); }
__attribute__((target("avx2,fma"), flatten)) void insert_avx2(HNSW& g, std::int32_t n, Visited& v) { insert<8>(g, n, v); }
__attribute__((target("avx512f"), flatten)) void search_avx512(const HNSW& g, const float* q, std::int64_t k, std::int64_t ef, const bool* a, Visited& v, float* s, std::int64_t* n) { search_one<16>(g, q, k, ef, a, v, s, n); }
__attribute__((target("avx2,fma"), flatten)) void search_avx2(const HNSW& g, const float* q, std::int64_t k, std::int64_t ef, const bool* a, Visited& v, float* s, std::int64_t* n) { search_one<8>(g, q, k, ef, a, v, s, n); }
#endif
__attribute__((flatten)) void insert_base(HNSW& g, std::int32_t n, Visited& v) { insert<4>(g, n, v); }
__attribute__((flatten)) void search_base(const HNSW& g, const float* q, std::int64_t k, std::int64_t ef, const bool* a, Visited& v, float* s, std::int64_t* n) { search_one<4>(g, q, k, ef, a, v, s, n); }

std::pair<InsertFn, SearchFn> pick() {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  if (__builtin_cpu_supports("avx512f")) return {insert_avx512, search_avx512};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {insert_avx2, search_avx2};
#endif
  return {insert_base, search_base};
}

}  // namespace

HNSW::HNSW(std::int64_t dim, int M, int ef_construction) : D_(dim), M_(M), efc_(ef_construction) {}

std::int32_t* HNSW::links(std::int32_t node, int layer) {
  return layer == 0 ? &links0_[node * (2 * M_ + 1)] : &upper_[node][(layer - 1) * (M_ + 1)];
}
const std::int32_t* HNSW::links(std::int32_t node, int layer) const {
  return layer == 0 ? &links0_[node * (2 * M_ + 1)] : &upper_[node][(layer - 1) * (M_ + 1)];
}

void HNSW::push_node(int level) {
  level_.push_back(level);
  links0_.resize(links0_.size() + 2 * M_ + 1, 0);
  upper_.emplace_back(static_cast<std::size_t>(level) * (M_ + 1), 0);
}

void HNSW::add(const float* x, const std::int32_t* levels, std::int64_t n) {
  const auto insert_fn = pick().first;
  vec_.insert(vec_.end(), x, x + n * D_);
  const std::int64_t first = size();
  for (std::int64_t i = 0; i < n; ++i) push_node(levels[i]);
  Visited visited(size());
  for (std::int64_t i = 0; i < n; ++i) insert_fn(*this, static_cast<std::int32_t>(first + i), visited);
}

void HNSW::search(const float* queries, std::int64_t nq, std::int64_t k, std::int64_t ef,
                  const bool* alive, float* sims, std::int64_t* nodes) const {
  const auto search_fn = pick().second;
  if (entry_ < 0) {
    std::fill(sims, sims + nq * k, -std::numeric_limits<float>::infinity());
    std::fill(nodes, nodes + nq * k, -1);
    return;
  }
#pragma omp parallel
  {
    Visited visited(size());
#pragma omp for schedule(dynamic, 4)
    for (std::int64_t i = 0; i < nq; ++i)
      search_fn(*this, queries + i * D_, k, ef, alive, visited, sims + i * k, nodes + i * k);
  }
}

}  // namespace hubkit::search
