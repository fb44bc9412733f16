// A prioritized replay index (do not edit): a ring of item ids plus a sum tree
// whose leaves hold priority^alpha, so that drawing a slot with probability
// p_i^alpha / sum_j p_j^alpha and changing one priority both cost O(log N).
#pragma once

#include <cstdint>
#include <vector>

class PrioritizedReplay {
 public:
  PrioritizedReplay(std::int64_t capacity, double alpha);

  // Store `item` in the next ring slot (overwriting the oldest when full) with the
  // largest priority seen so far (1.0 before any update); return the slot.
  std::int64_t add(std::int64_t item);
  // Set the priority of `slot` (> 0, checked by the caller); the tree stores priority^alpha.
  void update(std::int64_t slot, double priority);
  // The slot i whose interval [sum of leaves before i, that sum + leaf i) holds prefix,
  // for 0 <= prefix < total(). Drawing prefix uniformly samples by priority.
  std::int64_t find(double prefix) const;

  double total() const { return tree_[1]; }
  double leaf(std::int64_t slot) const { return tree_[leaves_ + slot]; }
  std::int64_t item(std::int64_t slot) const { return items_[slot]; }
  std::int64_t size() const { return size_; }
  std::int64_t capacity() const { return capacity_; }

 private:
  // leaf `slot` = value, then every ancestor = sum of its two children.
  void set_leaf(std::int64_t slot, double value);

  std::int64_t capacity_;
  std::int64_t leaves_ = 1;          // a power of two >= capacity_
  std::int64_t pos_ = 0;             // the slot add() writes next
  std::int64_t size_ = 0;            // slots filled so far (at most capacity_)
  double alpha_;
  double max_priority_ = 1.0;        // largest priority given to update() so far
  std::vector<double> tree_;         // 1-based heap: node k has children 2k and 2k + 1;
                                     // tree_[1] is the total, leaves at [leaves_, 2 leaves_)
  std::vector<std::int64_t> items_;  // the item stored in each slot
};
