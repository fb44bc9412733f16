// Prioritized replay on a sum tree (Schaul et al. 2016, https://arxiv.org/abs/1511.05952).
#include "prioritized_replay.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

PrioritizedReplay::PrioritizedReplay(std::int64_t capacity, double alpha)
    : capacity_(capacity), alpha_(alpha) {
  // BEGIN SOLUTION
  // starter> // Step 1: grow leaves_ to a power of two >= capacity_; size tree_ (2 * leaves_
  // starter> // zeros) and items_ (capacity_ entries).
  // starter> throw std::runtime_error("not implemented yet");
  while (leaves_ < capacity_) leaves_ *= 2;
  tree_.assign(2 * leaves_, 0.0);
  items_.assign(capacity_, -1);
  // END SOLUTION
}

void PrioritizedReplay::set_leaf(std::int64_t slot, double value) {
  // BEGIN SOLUTION
  // starter> // Step 2: write the leaf, then walk up to the root recomputing each parent.
  // starter> throw std::runtime_error("not implemented yet");
  std::int64_t node = leaves_ + slot;
  tree_[node] = value;
  for (node /= 2; node >= 1; node /= 2) tree_[node] = tree_[2 * node] + tree_[2 * node + 1];
  // END SOLUTION
}

std::int64_t PrioritizedReplay::add(std::int64_t item) {
  // BEGIN SOLUTION
  // starter> // Step 3: store item at pos_, give it max_priority_^alpha, advance pos_ around
  // starter> // the ring, grow size_ up to capacity_, return the slot written.
  // starter> throw std::runtime_error("not implemented yet");
  const std::int64_t slot = pos_;
  items_[slot] = item;
  set_leaf(slot, std::pow(max_priority_, alpha_));
  pos_ = (pos_ + 1) % capacity_;
  size_ = std::min(size_ + 1, capacity_);
  return slot;
  // END SOLUTION
}

void PrioritizedReplay::update(std::int64_t slot, double priority) {
  // BEGIN SOLUTION
  // starter> // Step 4: the tree holds priority^alpha; remember the largest priority.
  // starter> throw std::runtime_error("not implemented yet");
  set_leaf(slot, std::pow(priority, alpha_));
  max_priority_ = std::max(max_priority_, priority);
  // END SOLUTION
}

std::int64_t PrioritizedReplay::find(double prefix) const {
  // BEGIN SOLUTION
  // starter> // Step 5: from the root, go left if prefix < the left child's sum, else
  // starter> // subtract that sum and go right; the leaf you reach is the slot.
  // starter> throw std::runtime_error("not implemented yet");
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
  // END SOLUTION
}
