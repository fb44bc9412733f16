// Replay storage for off-policy RL: a ring buffer of transitions
// (obs, action, reward, next_obs, done), optionally with a sum tree of
// priorities for prioritized replay.
//
// Fields are stored as raw bytes (obs and action dtypes are chosen in Python).
// Python checks every argument first; these functions trust their inputs.
// Every public method takes the mutex, so one writer thread and one sampler
// thread may call in at the same time (the bindings release the GIL).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "replay/sum_tree.h"

namespace hubkit::replay {


// Where a batch of transitions lives (contiguous, n rows each).
struct Rows {
  const std::uint8_t* obs;
  const std::uint8_t* action;
  const float* reward;
  const std::uint8_t* next_obs;
  const bool* done;
};

struct OutRows {
  std::uint8_t* obs;
  std::uint8_t* action;
  float* reward;
  std::uint8_t* next_obs;
  bool* done;
  std::int64_t* indices;
  float* weights;  // prioritized only
};

class ReplayCore {
 public:
  ReplayCore(std::size_t capacity, std::size_t obs_bytes, std::size_t action_bytes,
             bool prioritized, double alpha);

  void add(const Rows& rows, std::size_t n);
  // Uniform (or prioritized, stratified) draw of n rows with a seed from next_seed().
  void sample(std::size_t n, std::uint64_t seed, double beta, const OutRows& out);
  void update_priorities(const std::int64_t* indices, const double* priorities, std::size_t n);
  void gather(const std::int64_t* indices, std::size_t n, const OutRows& out) const;

  std::uint64_t next_seed();  // advances the buffer's own splitmix64 state
  std::size_t size();
  std::size_t pos();

  // Whole-state copy for state_dict / load (rows [0, capacity), leaves p^alpha).
  struct State {
    std::size_t size, pos;
    std::uint64_t rng_state;
    double max_priority;
  };
  State get_state(std::uint8_t* obs, std::uint8_t* action, float* reward, std::uint8_t* next_obs,
                  bool* done, double* leaves);
  void set_state(const State& s, const Rows& rows, const double* leaves);
  void set_rng_state(std::uint64_t state);

  const std::size_t capacity, obs_bytes, action_bytes;
  const bool prioritized;
  const double alpha;

 private:
  void write_row(std::size_t slot, const Rows& rows, std::size_t i);
  void sample_prioritized(std::size_t n, Xoshiro256& rng, double beta, const OutRows& out);

  std::mutex mu_;
  Bytes obs_, action_, reward_, next_obs_, done_;
  SumTree tree_;
  std::size_t size_ = 0, pos_ = 0;
  std::uint64_t rng_state_ = 0;
  double max_priority_ = 1.0;  // new transitions get the largest priority seen so far
};

}  // namespace hubkit::replay
