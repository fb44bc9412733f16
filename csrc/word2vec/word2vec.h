// word2vec (skip-gram and CBOW, negative sampling) trained by lock-free parallel SGD.
//
// The same algorithm as python/hubkit/embeddings/word2vec.py, the reference:
// same subsampling, window draws, noise table, learning-rate schedule and
// word2vec.c's generator in the same order, so one thread makes the same
// updates. Several threads share the two weight matrices without locks
// (Hogwild: Niu et al. 2011, and word2vec.c): their rare collisions on one
// row cost a little accuracy, never correctness of the program.
//
// Python (hubkit.embeddings.trainer) has checked every shape, dtype and range.
#pragma once

#include <cstdint>

namespace hubkit::word2vec {

struct Corpus {
  const std::int32_t* ids;      // (N,) word ids
  const std::int64_t* offsets;  // (S + 1,) sentence s is ids[offsets[s]:offsets[s + 1]]
  std::int64_t first, last;     // train on sentences [first, last)
};

struct Noise {
  const float* keep;           // (V,) probability of keeping each occurrence of a word
  const std::int32_t* table;   // (table_size,) noise table
  std::int64_t table_size;
};

struct Model {
  float* w_in;   // (V, D) input vectors, updated in place
  float* w_out;  // (V, D) output vectors, updated in place
  std::int64_t dim;
};

struct Options {
  bool cbow;
  int window, negative;
  double alpha, min_alpha;
  std::int64_t base, total;  // tokens trained before this epoch; tokens in the whole run
  bool compute_loss;
};

struct Totals {
  double loss = 0.0;
  std::int64_t examples = 0, words = 0;
};

// Train on corpus.first..last with `threads` threads; thread t uses rng[t] and writes it back.
Totals train(const Corpus& corpus, const Noise& noise, const Model& model, const Options& opt,
             std::uint64_t* rng, int threads);

}  // namespace hubkit::word2vec
