// Exercise vector_rollout_cpp: what the learner's rollout.cpp builds on.
//
// Given here: the thread pool, the task parameters, the env storage, the
// observation and the health test. rollout.cpp defines init_envs, reset_env and
// step_env; bindings.cpp turns them into a Python vector env.
#pragma once

#include <mujoco/mujoco.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

// parallel_for(n, fn) calls fn(i) for every i in [0, n) on all threads and waits.
// Items go out through an atomic counter, so which thread runs env i varies.
class ThreadPool {
 public:
  explicit ThreadPool(int num_threads) {
    for (int t = 1; t < num_threads; ++t) workers_.emplace_back([this] { loop(); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    start_.notify_all();
    for (auto& w : workers_) w.join();
  }
  void parallel_for(int n, const std::function<void(int)>& fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      next_ = 0;
      busy_ = static_cast<int>(workers_.size());
      ++gen_;
    }
    start_.notify_all();
    drain();
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return busy_ == 0; });
  }

 private:
  void drain() {
    for (int i = next_++; i < n_; i = next_++) (*fn_)(i);
  }
  void loop() {
    std::uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        start_.wait(lock, [&] { return stop_ || gen_ != seen; });
        if (stop_) return;
        seen = gen_;
      }
      drain();
      std::lock_guard<std::mutex> lock(mu_);
      if (--busy_ == 0) done_.notify_one();
    }
  }
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_, done_;
  const std::function<void(int)>* fn_ = nullptr;
  int n_ = 0, busy_ = 0;
  std::atomic<int> next_{0};
  std::uint64_t gen_ = 0;
  bool stop_ = false;
};

// hubkit.envs.reference.TaskSpec's fields for the planar tasks.
struct Params {
  int frame_skip = 1, max_episode_steps = 0;
  double forward_reward_weight = 1, ctrl_cost_weight = 0, healthy_reward = 0;
  bool terminate_when_unhealthy = false;
  double z_lo = 0, z_hi = 0, angle_lo = 0, angle_hi = 0, state_lo = 0, state_hi = 0;
  double qvel_clip = 0;
};

struct Env {
  mjData* d = nullptr;                          // this env's simulation state
  int steps = 0;                                // steps in the current episode
  bool needs_reset = false;                     // the last step ended the episode
  std::vector<double> reset_qpos, reset_qvel;   // the state the next reset goes to
};

struct Out {  // where step_env writes one env's results
  double* obs;
  double* reward;
  std::uint8_t* terminated;
  std::uint8_t* truncated;
};

// obs = [qpos[1:], clip(qvel, -qvel_clip, qvel_clip)]  (x is left out)
inline void observe(const mjModel* m, const mjData* d, const Params& p, double* obs) {
  for (int j = 1; j < m->nq; ++j) *obs++ = d->qpos[j];
  for (int j = 0; j < m->nv; ++j) *obs++ = std::min(std::max(d->qvel[j], -p.qvel_clip), p.qvel_clip);
}

// z and torso angle inside open intervals, every entry of (qpos[2:], qvel)
// strictly inside (state_lo, state_hi). HalfCheetah's ranges are infinite.
inline bool healthy(const mjModel* m, const mjData* d, const Params& p) {
  const double z = d->qpos[1], angle = d->qpos[2];
  if (!(p.z_lo < z && z < p.z_hi && p.angle_lo < angle && angle < p.angle_hi)) return false;
  for (int j = 2; j < m->nq; ++j) {
    if (!(p.state_lo < d->qpos[j] && d->qpos[j] < p.state_hi)) return false;
  }
  for (int j = 0; j < m->nv; ++j) {
    if (!(p.state_lo < d->qvel[j] && d->qvel[j] < p.state_hi)) return false;
  }
  return true;
}

// ---- yours, in rollout.cpp
void init_envs(const mjModel* m, std::vector<Env>& envs);
void reset_env(const mjModel* m, Env& e, const double* qpos, const double* qvel);
bool step_env(const mjModel* m, const Params& p, Env& e, const double* action, Out out);
