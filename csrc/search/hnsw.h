// HNSW graph (Malkov & Yashunin, arXiv:1603.09320): build and search by inner product.
//
// The C++ twin of python/hubkit/search/hnsw.py (same algorithm, same array form):
// nodes are numbered in insertion order, each with a top layer given by the caller;
// layer 0 keeps up to 2M links per node, upper layers M. Deleted nodes are walked
// through during search and never returned (the caller passes an `alive` mask).
#pragma once

#include <cstdint>
#include <vector>

namespace hubkit::search {

struct Cand {
  float sim;
  std::int32_t node;
};

class HNSW {
 public:
  HNSW(std::int64_t dim, int M, int ef_construction);

  // Insert n vectors (n, D) with their top layers, one after another.
  void add(const float* x, const std::int32_t* levels, std::int64_t n);
  // k best live nodes per query: sims (nq, k), nodes (nq, k); -inf / -1 past those found.
  void search(const float* queries, std::int64_t nq, std::int64_t k, std::int64_t ef,
              const bool* alive, float* sims, std::int64_t* nodes) const;

  std::int64_t size() const { return static_cast<std::int64_t>(level_.size()); }
  std::int64_t dim() const { return D_; }
  int M() const { return M_; }
  int efc() const { return efc_; }

  // The array form (see hnsw.py): the caller fills / reads these directly.
  std::vector<float> vec_;
  std::vector<std::int32_t> level_;
  std::vector<std::int32_t> links0_;              // n x (1 + 2M): count, then neighbours
  std::vector<std::vector<std::int32_t>> upper_;  // per node: level x (1 + M)
  std::int32_t entry_ = -1;
  int max_level_ = -1;

  std::int32_t* links(std::int32_t node, int layer);
  const std::int32_t* links(std::int32_t node, int layer) const;
  int max_links(int layer) const { return layer == 0 ? 2 * M_ : M_; }
  void push_node(int level);  // empty link lists for one more node

 private:
  std::int64_t D_;
  int M_, efc_;
};

}  // namespace hubkit::search
