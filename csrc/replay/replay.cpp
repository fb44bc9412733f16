#include "replay/replay.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace hubkit::replay {

constexpr std::size_t kMapThreshold = std::size_t{4} << 20;  // 4 MiB

void MappedDeleter::operator()(std::uint8_t* p) const {
#ifdef __linux__
  if (bytes > 0) {
    munmap(p, bytes);
    return;
  }
#endif
  std::free(p);
}

Bytes zeroed_bytes(std::size_t bytes) {
#ifdef __linux__
  if (bytes >= kMapThreshold) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, bytes, MADV_HUGEPAGE);  // advice only: ignored where THP is off
    return Bytes(static_cast<std::uint8_t*>(p), MappedDeleter{bytes});
  }
#endif
  auto* p = static_cast<std::uint8_t*>(std::calloc(bytes > 0 ? bytes : 1, 1));
  if (p == nullptr) throw std::bad_alloc();
  return Bytes(p, MappedDeleter{0});
}

namespace {
Bytes zeroed(std::size_t bytes) { return zeroed_bytes(bytes); }
}  // namespace

ReplayCore::ReplayCore(std::size_t capacity_, std::size_t obs_bytes_, std::size_t action_bytes_,
                       bool prioritized_, double alpha_)
    : capacity(capacity_), obs_bytes(obs_bytes_), action_bytes(action_bytes_),
      prioritized(prioritized_), alpha(alpha_),
      obs_(zeroed(capacity_ * obs_bytes_)), action_(zeroed(capacity_ * action_bytes_)),
      reward_(zeroed(capacity_ * sizeof(float))), next_obs_(zeroed(capacity_ * obs_bytes_)),
      done_(zeroed(capacity_)), tree_(prioritized_ ? capacity_ : 1) {}

void ReplayCore::write_row(std::size_t slot, const Rows& rows, std::size_t i) {
  std::memcpy(obs_.get() + slot * obs_bytes, rows.obs + i * obs_bytes, obs_bytes);
  std::memcpy(action_.get() + slot * action_bytes, rows.action + i * action_bytes, action_bytes);
  std::memcpy(next_obs_.get() + slot * obs_bytes, rows.next_obs + i * obs_bytes, obs_bytes);
  reinterpret_cast<float*>(reward_.get())[slot] = rows.reward[i];
  done_[slot] = rows.done[i] ? 1 : 0;
}

void ReplayCore::add(const Rows& rows, std::size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  const double leaf = std::pow(max_priority_, alpha);
  for (std::size_t i = 0; i < n; ++i) {
    write_row(pos_, rows, i);
    if (prioritized) tree_.set(pos_, leaf);
    pos_ = (pos_ + 1) % capacity;
    size_ = std::min(size_ + 1, capacity);
  }
}

// One pass per field: each pass streams rows of one array into one output.
void ReplayCore::gather(const std::int64_t* indices, std::size_t n, const OutRows& out) const {
  auto rows = [&](const std::uint8_t* src, std::uint8_t* dst, std::size_t bytes) {
    for (std::size_t k = 0; k < n; ++k) {
      std::memcpy(dst + k * bytes, src + static_cast<std::size_t>(indices[k]) * bytes, bytes);
    }
  };
  rows(obs_.get(), out.obs, obs_bytes);
  rows(next_obs_.get(), out.next_obs, obs_bytes);
  rows(action_.get(), out.action, action_bytes);
  const auto* reward = reinterpret_cast<const float*>(reward_.get());
  for (std::size_t k = 0; k < n; ++k) {
    const auto j = static_cast<std::size_t>(indices[k]);
    out.reward[k] = reward[j];
    out.done[k] = done_[j] != 0;
  }
}

void ReplayCore::sample(std::size_t n, std::uint64_t seed, double beta, const OutRows& out) {
  std::lock_guard<std::mutex> lock(mu_);
  Xoshiro256 rng(seed);
  if (prioritized) {
    sample_prioritized(n, rng, beta, out);
  } else {
    for (std::size_t k = 0; k < n; ++k) out.indices[k] = static_cast<std::int64_t>(rng.below(size_));
  }
  gather(out.indices, n, out);
}

// Stratified: split [0, total) into n equal segments and draw one prefix in each,
// so every index is drawn with probability p_i^alpha / sum_j p_j^alpha per draw on average.
void ReplayCore::sample_prioritized(std::size_t n, Xoshiro256& rng, double beta,
                                    const OutRows& out) {
  const double total = tree_.total();
  const double segment = total / static_cast<double>(n);
  std::vector<double> prefixes(n), weights(n);
  for (std::size_t k = 0; k < n; ++k) {
    prefixes[k] = (static_cast<double>(k) + rng.uniform()) * segment;
  }
  tree_.find_many(prefixes.data(), n, size_, out.indices);
  double max_weight = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    const double prob = tree_.get(static_cast<std::size_t>(out.indices[k])) / total;
    weights[k] = std::pow(static_cast<double>(size_) * prob, -beta);
    max_weight = std::max(max_weight, weights[k]);
  }
  // Weights are normalized by the batch's largest weight, so they only scale updates down.
  for (std::size_t k = 0; k < n; ++k) out.weights[k] = static_cast<float>(weights[k] / max_weight);
}

void ReplayCore::update_priorities(const std::int64_t* indices, const double* priorities,
                                   std::size_t n) {
  std::vector<double> leaves(n);
  for (std::size_t k = 0; k < n; ++k) leaves[k] = std::pow(priorities[k], alpha);
  std::lock_guard<std::mutex> lock(mu_);
  tree_.set_many(indices, leaves.data(), n);
  for (std::size_t k = 0; k < n; ++k) max_priority_ = std::max(max_priority_, priorities[k]);
}

std::uint64_t ReplayCore::next_seed() {
  std::lock_guard<std::mutex> lock(mu_);
  return splitmix64(rng_state_);
}

std::size_t ReplayCore::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

std::size_t ReplayCore::pos() {
  std::lock_guard<std::mutex> lock(mu_);
  return pos_;
}

void ReplayCore::set_rng_state(std::uint64_t state) {
  std::lock_guard<std::mutex> lock(mu_);
  rng_state_ = state;
}

ReplayCore::State ReplayCore::get_state(std::uint8_t* obs, std::uint8_t* action, float* reward,
                                        std::uint8_t* next_obs, bool* done, double* leaves) {
  std::lock_guard<std::mutex> lock(mu_);
  std::memcpy(obs, obs_.get(), capacity * obs_bytes);
  std::memcpy(action, action_.get(), capacity * action_bytes);
  std::memcpy(reward, reward_.get(), capacity * sizeof(float));
  std::memcpy(next_obs, next_obs_.get(), capacity * obs_bytes);
  for (std::size_t i = 0; i < capacity; ++i) done[i] = done_[i] != 0;
  if (prioritized) {
    for (std::size_t i = 0; i < capacity; ++i) leaves[i] = tree_.get(i);
  }
  return State{size_, pos_, rng_state_, max_priority_};
}

void ReplayCore::set_state(const State& s, const Rows& rows, const double* leaves) {
  std::lock_guard<std::mutex> lock(mu_);
  for (std::size_t i = 0; i < capacity; ++i) write_row(i, rows, i);
  if (prioritized) {
    for (std::size_t i = 0; i < capacity; ++i) tree_.set(i, leaves[i]);
  }
  size_ = s.size;
  pos_ = s.pos;
  rng_state_ = s.rng_state;
  max_priority_ = s.max_priority;
}

}  // namespace hubkit::replay
