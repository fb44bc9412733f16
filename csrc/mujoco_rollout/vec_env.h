// N MuJoCo envs of one task, stepped by a thread pool: the C++ twin of
// python/hubkit/envs/reference.py (Gymnasium v5 rules, NEXT_STEP autoreset).
//
// Every env owns its mjModel copy (so domain randomization can change one
// env's masses), its mjData and its random generator. Results go into
// preallocated buffers that Python sees as NumPy arrays without copies,
// including Gymnasium's `info` values (positions, velocities, reward terms).
#pragma once

#include <mujoco/mujoco.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "thread_pool.h"

namespace hubkit::mjenv {

enum class Task : int { HalfCheetah = 0, Hopper = 1, Walker2d = 2, Ant = 3, Reacher = 4 };

// One task's rules; field names and defaults mirror reference.TaskSpec.
struct TaskParams {
  Task task = Task::HalfCheetah;
  int frame_skip = 5;
  int max_episode_steps = 1000;  // 0: no time limit
  double forward_reward_weight = 1.0, ctrl_cost_weight = 0.1, contact_cost_weight = 0.0;
  double healthy_reward = 0.0;
  bool terminate_when_unhealthy = false;
  double z_lo = -INFINITY, z_hi = INFINITY, angle_lo = -INFINITY, angle_hi = INFINITY;
  double state_lo = -INFINITY, state_hi = INFINITY, force_lo = -1.0, force_hi = 1.0;
  double reset_noise_scale = 0.1;
  int skipped_qpos = 1;
  double qvel_clip = INFINITY;
  double total_mass = 0.0;  // > 0: rescale masses to this total after compiling
  bool autoreset = true;    // false: an ended episode goes on until reset (single env)
};

// Columns of the info buffer: every task's Gymnasium info keys together, in
// the order of reference.INFO_COLUMNS. A task fills the ones it reports.
enum Info : int {
  kXPosition, kYPosition, kDistanceFromOrigin, kZDistanceFromOrigin, kXVelocity, kYVelocity,
  kRewardForward, kRewardCtrl, kRewardContact, kRewardSurvive, kRewardDist, kNumInfo
};
inline constexpr const char* kInfoNames[kNumInfo] = {
    "x_position",     "y_position",  "distance_from_origin", "z_distance_from_origin",
    "x_velocity",     "y_velocity",  "reward_forward",       "reward_ctrl",
    "reward_contact", "reward_survive", "reward_dist"};

// xoshiro256** seeded through splitmix64: small, fast, the same on every platform.
class Rng {
 public:
  void seed(std::uint64_t seed);
  std::uint64_t next();
  double uniform(double lo, double hi);  // [lo, hi)
  double normal();                       // standard normal (Box-Muller)

 private:
  std::uint64_t s_[4] = {1, 2, 3, 4};
};

struct Env {
  mjModel* m = nullptr;
  mjData* d = nullptr;
  Rng rng;
  int steps = 0;
  bool needs_reset = false;
  bool has_pending = false;            // a queued reset state replaces the noise once
  std::vector<double> pending_qpos, pending_qvel;
};

class VecEnv {
 public:
  // `xml` is the model's XML text (files it names resolve against the cwd).
  VecEnv(const std::string& xml, const TaskParams& params, int num_envs, int num_threads,
         std::uint64_t seed);
  ~VecEnv();
  VecEnv(const VecEnv&) = delete;
  VecEnv& operator=(const VecEnv&) = delete;

  void seed(std::uint64_t seed);                     // reseed every env's generator
  void reset_all();                                  // reset every env, write obs
  void step(const double* actions);                  // actions (N, nu), row-major
  void queue_reset_state(int i, const double* qpos, const double* qvel);
  void set_dynamics(int i, const double* body_mass, const double* geom_friction,
                    const double* dof_damping);
  void get_state(int i, double* qpos, double* qvel) const;
  void set_state(int i, const double* qpos, const double* qvel);  // keeps the episode going

  int num_envs() const { return static_cast<int>(envs_.size()); }
  int num_threads() const { return pool_.num_threads(); }
  int obs_dim() const { return obs_dim_; }
  const mjModel* model() const { return base_; }

  // Output buffers, written by step() / reset_all().
  std::vector<double> obs;               // (N, obs_dim)
  std::vector<double> rewards;           // (N,)
  std::vector<std::uint8_t> terminated;  // (N,)
  std::vector<std::uint8_t> truncated;   // (N,)
  std::vector<std::uint8_t> unstable;    // (N,) physics blew up; env truncated
  std::vector<std::int32_t> episode_steps;
  std::vector<double> info;              // (N, kNumInfo): last reset's or step's info

 private:
  void reset_one(int i);
  void step_one(int i, const double* action);
  void sample_state(Env& e, double* qpos, double* qvel);
  void observe(int i);
  void reset_info(const Env& e, double* out) const;
  void step_info(const Env& e, const double* before, const double* action, double* out) const;
  double reward(const double* info) const;
  bool healthy(const Env& e) const;
  void tracked_position(const Env& e, double* out) const;

  TaskParams p_;
  mjModel* base_ = nullptr;
  std::vector<Env> envs_;
  int obs_dim_ = 0;
  int fingertip_ = -1, target_ = -1;  // Reacher's bodies
  ThreadPool pool_;
};

}  // namespace hubkit::mjenv
