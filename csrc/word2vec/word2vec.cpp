// word2vec training loop: see word2vec.h and python/hubkit/embeddings/word2vec.py.
#include "word2vec/word2vec.h"

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "vector_math.h"

// subtle: everything train_range calls is inlined into it, so each of its per-ISA clones
// (HUBKIT_MULTIVERSION) vectorizes the loops; a callee left out of line would be
// compiled for the baseline ISA only (SSE2).
#if defined(__GNUC__)
#define W2V_INLINE inline __attribute__((always_inline))
#else
#define W2V_INLINE inline
#endif

namespace hubkit::word2vec {
namespace {

constexpr int kLanes = 16;  // scores are padded to a multiple of this for the simd sigmoid

// word2vec.c's linear congruential generator.
W2V_INLINE std::uint64_t next(std::uint64_t& state) {
  state = state * 25214903917ULL + 11ULL;
  return state;
}

W2V_INLINE float dot(const float* a, const float* b, std::int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (std::int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

W2V_INLINE void axpy(float a, const float* x, float* y, std::int64_t n) {  // y += a x
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// -log sigmoid(x) = log1p(e) and -log sigmoid(-x) = log1p(e) + x, with e = exp(-x) already
// computed for the sigmoid (one log1p per score, not a second exp).
W2V_INLINE float neg_log_sigmoid(float x, float e) { return std::isinf(e) ? -x : std::log1p(e); }

// Per-thread buffers, allocated before the threads start.
struct Work {
  std::vector<std::int32_t> kept, targets;
  std::vector<std::int64_t> pos;
  std::vector<float> v, grad, score, g;
  Work(std::int64_t dim, int negative)
      : targets(negative + 1), v(dim), grad(dim),
        score((negative + kLanes) / kLanes * kLanes), g(score.size()) {}
};

// dloss/dscore = sigmoid(score) - label for the n scores (label 1 for the first), and the
// summed loss if asked. One simd loop over padded scores calls a vector exp (libmvec).
W2V_INLINE double sigmoid_grads(Work& w, int n, bool compute_loss) {
  const int padded = (n + kLanes - 1) / kLanes * kLanes;
  std::fill(w.score.begin() + n, w.score.begin() + padded, 0.0f);
  float* __restrict g = w.g.data();
  const float* __restrict score = w.score.data();
#pragma omp simd
  for (int k = 0; k < padded; ++k) g[k] = vmath::exp(-score[k]);  // e = exp(-score) for now
  double loss = 0.0;
  if (compute_loss)
    for (int k = 0; k < n; ++k) loss += neg_log_sigmoid(score[k], g[k]) + (k ? score[k] : 0.0f);
#pragma omp simd
  for (int k = 0; k < padded; ++k) g[k] = 1.0f / (1.0f + g[k]);
  g[0] -= 1.0f;
  return loss;
}

// One SGD step on one example: v scores `target` against negatives from the table.
// Fills w.grad with dloss/dv (at the old output vectors) and updates the output vectors.
W2V_INLINE double example(const Noise& noise, const Model& m, const Options& opt,
                          const float* v, std::int32_t target, float lr, std::uint64_t& rng,
                          Work& w) {
  int n = 0;
  w.targets[n++] = target;
  for (int k = 0; k < opt.negative; ++k) {
    const auto slot = static_cast<std::int64_t>((next(rng) >> 16) % noise.table_size);
    const std::int32_t word = noise.table[slot];
    if (word != target) w.targets[n++] = word;  // a draw equal to the target is skipped
  }
  const std::int64_t d = m.dim;
  for (int k = 0; k < n; ++k) w.score[k] = dot(v, m.w_out + w.targets[k] * d, d);
  const double loss = sigmoid_grads(w, n, opt.compute_loss);
  std::fill(w.grad.begin(), w.grad.end(), 0.0f);
  for (int k = 0; k < n; ++k) axpy(w.g[k], m.w_out + w.targets[k] * d, w.grad.data(), d);
  // subtle: every output row moves after dloss/dv is complete, so a negative drawn
  // twice adds two steps computed at the old values (as np.add.at in the reference).
  for (int k = 0; k < n; ++k) axpy(-lr * w.g[k], v, m.w_out + w.targets[k] * d, d);
  return loss;
}

W2V_INLINE void subsample(const Corpus& c, const Noise& noise, std::int64_t s, std::uint64_t& rng,
               Work& w) {
  w.kept.clear();
  w.pos.clear();
  for (std::int64_t i = c.offsets[s]; i < c.offsets[s + 1]; ++i) {
    const std::int32_t word = c.ids[i];
    const float keep = noise.keep[word];
    if (keep < 1.0f && keep < static_cast<float>((next(rng) & 0xFFFF) / 65536.0)) continue;
    w.kept.push_back(word);
    w.pos.push_back(i);
  }
}

// CBOW: the mean of the context's input vectors predicts the centre word.
W2V_INLINE double cbow(const Noise& noise, const Model& m, const Options& opt, std::int64_t i,
            std::int64_t lo, std::int64_t hi, float lr, std::uint64_t& rng, Work& w) {
  const std::int64_t d = m.dim;
  std::fill(w.v.begin(), w.v.end(), 0.0f);
  for (std::int64_t j = lo; j < hi; ++j)
    if (j != i) axpy(1.0f, m.w_in + w.kept[j] * d, w.v.data(), d);
  const float inv = 1.0f / static_cast<float>(hi - lo - 1);
  for (auto& x : w.v) x *= inv;
  const double loss = example(noise, m, opt, w.v.data(), w.kept[i], lr, rng, w);
  for (std::int64_t j = lo; j < hi; ++j)
    if (j != i) axpy(-lr * inv, w.grad.data(), m.w_in + w.kept[j] * d, d);
  return loss;
}

// Skip-gram: the centre word's input vector predicts each context word in turn.
W2V_INLINE double skipgram(const Noise& noise, const Model& m, const Options& opt, std::int64_t i,
                std::int64_t lo, std::int64_t hi, float lr, std::uint64_t& rng, Work& w,
                std::int64_t& examples) {
  const std::int64_t d = m.dim;
  float* v = m.w_in + w.kept[i] * d;
  double loss = 0.0;
  for (std::int64_t j = lo; j < hi; ++j) {
    if (j == i) continue;
    loss += example(noise, m, opt, v, w.kept[j], lr, rng, w);
    axpy(-lr, w.grad.data(), v, d);
    ++examples;
  }
  return loss;
}

// One thread's share: sentences [s0, s1). Compiled once per instruction set.
HUBKIT_MULTIVERSION Totals train_range(const Corpus& c, const Noise& noise, const Model& m,
                                       const Options& opt, std::int64_t s0, std::int64_t s1,
                                       std::uint64_t& rng, Work& w) {
  Totals t;
  for (std::int64_t s = s0; s < s1; ++s) {
    subsample(c, noise, s, rng, w);
    const auto n = static_cast<std::int64_t>(w.kept.size());
    t.words += n;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t reach = opt.window - static_cast<std::int64_t>(next(rng) % opt.window);
      const std::int64_t lo = std::max<std::int64_t>(0, i - reach);
      const std::int64_t hi = std::min(n, i + reach + 1);
      if (hi - lo <= 1) continue;  // no context word
      const double progress = static_cast<double>(opt.base + w.pos[i]) / opt.total;
      const auto lr = static_cast<float>(opt.alpha - (opt.alpha - opt.min_alpha) * progress);
      if (opt.cbow) {
        t.loss += cbow(noise, m, opt, i, lo, hi, lr, rng, w);
        ++t.examples;
      } else {
        t.loss += skipgram(noise, m, opt, i, lo, hi, lr, rng, w, t.examples);
      }
    }
  }
  return t;
}

// Sentence boundaries that give each of `threads` threads about the same number of tokens.
std::vector<std::int64_t> split(const Corpus& c, int threads) {
  std::vector<std::int64_t> bounds{c.first};
  const std::int64_t a = c.offsets[c.first], n = c.offsets[c.last] - a;
  for (int t = 1; t < threads; ++t) {
    const std::int64_t goal = a + n * t / threads;
    const auto* it = std::lower_bound(c.offsets + bounds.back(), c.offsets + c.last, goal);
    bounds.push_back(std::min<std::int64_t>(it - c.offsets, c.last));
  }
  bounds.push_back(c.last);
  return bounds;
}

}  // namespace

Totals train(const Corpus& corpus, const Noise& noise, const Model& model, const Options& opt,
             std::uint64_t* rng, int threads) {
  const std::vector<std::int64_t> bounds = split(corpus, threads);
  std::vector<Work> work(threads, Work(model.dim, opt.negative));
  std::vector<Totals> totals(threads);
  auto run = [&](int t) {
    totals[t] = train_range(corpus, noise, model, opt, bounds[t], bounds[t + 1], rng[t], work[t]);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
  Totals all;
  for (const auto& t : totals) {
    all.loss += t.loss;
    all.examples += t.examples;
    all.words += t.words;
  }
  return all;
}

}  // namespace hubkit::word2vec
