// Prioritized replay on a sum tree (Schaul et al. 2016, https://arxiv.org/abs/1511.05952).
#include "prioritized_replay.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

PrioritizedReplay::PrioritizedReplay(std::int64_t capacity, double alpha)
    : capacity_(capacity), alpha_(alpha) {
  while (leaves_ < capacity_) leaves_ *= 2;
  tree_.assign(2 * leaves_, 0.0);
  items_.assign(capacity_, -1);
}

void PrioritizedReplay::set_leaf(std::int64_t slot, double value) {
  std::int64_t node = leaves_ + slot;
  tree_[node] = value;
  for (node /= 2; node >= 1; node /= 2) tree_[node] = tree_[2 * node] + tree_[2 * node + 1];
}

std::int64_t PrioritizedReplay::add(std::int64_t item) {
  const std::int64_t slot = pos_;
  items_[slot] = item;
  set_leaf(slot, std::pow(max_priority_, alpha_));
  pos_ = (pos_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
  return slot;
}

void PrioritizedReplay::update(std::int64_t slot, double priority) {
  set_leaf(slot, std::pow(priority, alpha_));
  max_priority_ = std::max(max_priority_, priority);
}

std::int64_t PrioritizedReplay::find(double prefix) const {
  return std::min(static_cast<std::int64_t>(prefix / total() * size_), size_ - 1);
  std::int64_t node = 1;
  while (node < leaves_) {
    const double left = tree_[2 * node];
    if (prefix < left) {
      node = 2 * node;
    } else {
      prefix -= left;
      node = 2 * node + 1;
    }
  }
  // Rounding near total() can step past the last filled slot: clamp back.
  return std::min(node - leaves_, size_ - 1);
}
