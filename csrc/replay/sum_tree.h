// Sum tree and the small random number generators the replay buffers use.
//
// A sum tree stores one non-negative value per leaf and, in every inner node,
// the sum of its two children; the root holds the total. Setting a leaf costs
// O(log N) and finding the leaf where a running sum crosses a threshold (the
// "prefix search" that prioritized replay samples with) costs O(log N).
// Schaul et al. 2016, Prioritized Experience Replay: https://arxiv.org/abs/1511.05952
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace hubkit::replay {

// Zero-filled storage whose pages are only touched when written. Large blocks are
// mapped directly and advised to use transparent huge pages (as NumPy does), which
// cuts the first-write page faults of an 84x84x4 uint8 ring about 500-fold.
struct MappedDeleter {
  std::size_t bytes = 0;  // 0: the block came from calloc
  void operator()(std::uint8_t* p) const;
};
using Bytes = std::unique_ptr<std::uint8_t[], MappedDeleter>;
Bytes zeroed_bytes(std::size_t bytes);

// splitmix64: one 64-bit state; python/hubkit/rl/replay_reference.py computes
// the same sequence, so both backends derive identical per-call seeds.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// xoshiro256**: the fast generator one sample() call draws from.
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform integer in [0, n) by multiply-shift (bias below 2^-32 for n < 2^32).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }
  // Uniform double in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

class SumTree {
 public:
  explicit SumTree(std::size_t capacity) : leaves_(round_up(capacity)),
      memory_(zeroed_bytes(2 * leaves_ * sizeof(double))),
      nodes_(reinterpret_cast<double*>(memory_.get())) {}

  // Leaf i = value, then recompute every ancestor from its children.
  // subtle: recomputing (not adding a delta) keeps sums exact after many updates.
  void set(std::size_t i, double value) {
    std::size_t node = i + leaves_;
    nodes_[node] = value;
    for (node /= 2; node >= 1; node /= 2) nodes_[node] = nodes_[2 * node] + nodes_[2 * node + 1];
  }

  // find() for a batch, one tree level at a time: the n descents are independent, so
  // the CPU can overlap their cache misses instead of waiting on each in turn.
  void find_many(const double* prefixes, std::size_t n, std::size_t filled,
                 std::int64_t* out) const {
    std::vector<std::size_t> node(n, 1);
    std::vector<double> rest(prefixes, prefixes + n);
    for (std::size_t width = 1; width < leaves_; width *= 2) {
      for (std::size_t k = 0; k < n; ++k) {
        const std::size_t left = 2 * node[k];
        const double left_sum = nodes_[left];
        const bool right = rest[k] >= left_sum;
        rest[k] -= right ? left_sum : 0.0;
        node[k] = left + (right ? 1 : 0);
      }
    }
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = node[k] - leaves_;
      out[k] = static_cast<std::int64_t>(i < filled ? i : filled - 1);
    }
  }

  // set() for a batch: all leaves first, then each level's parents (a repeated index
  // keeps its last value, as with set() in order).
  void set_many(const std::int64_t* indices, const double* values, std::size_t n) {
    std::vector<std::size_t> node(n);
    for (std::size_t k = 0; k < n; ++k) {
      node[k] = static_cast<std::size_t>(indices[k]) + leaves_;
      nodes_[node[k]] = values[k];
    }
    for (std::size_t width = 1; width < leaves_; width *= 2) {
      for (std::size_t k = 0; k < n; ++k) {
        node[k] /= 2;
        nodes_[node[k]] = nodes_[2 * node[k]] + nodes_[2 * node[k] + 1];
      }
    }
  }

  double get(std::size_t i) const { return nodes_[i + leaves_]; }
  double total() const { return nodes_[1]; }

  // The leaf i whose running-sum interval [sum(0..i-1), sum(0..i)) holds prefix.
  // `filled` bounds the answer: rounding near the total must not pick an empty leaf.
  std::size_t find(double prefix, std::size_t filled) const {
    std::size_t node = 1;
    while (node < leaves_) {
      const double left = nodes_[2 * node];
      if (prefix < left) {
        node = 2 * node;
      } else {
        prefix -= left;
        node = 2 * node + 1;
      }
    }
    const std::size_t i = node - leaves_;
    return i < filled ? i : filled - 1;
  }

 private:
  static std::size_t round_up(std::size_t capacity) {
    std::size_t n = 1;
    while (n < capacity) n *= 2;
    return n;
  }

  std::size_t leaves_;  // a power of two >= capacity
  // subtle: a 1M-leaf tree is 16 MB; on 4 KB pages nearly every level of a descent is
  // a TLB miss, so the nodes live in (huge-page advised) memory from zeroed_bytes.
  Bytes memory_;
  double* nodes_;       // 1-based heap; leaves at [leaves_, 2 * leaves_)
};

}  // namespace hubkit::replay
