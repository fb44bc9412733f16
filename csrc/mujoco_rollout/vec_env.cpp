// See vec_env.h. The rules here mirror python/hubkit/envs/reference.py line by line.
#include "vec_env.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace hubkit::mjenv {

// ---------------------------------------------------------------- random numbers

static std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void Rng::seed(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t out = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return out;
}

double Rng::uniform(double lo, double hi) {
  const double u = static_cast<double>(next() >> 11) * 0x1.0p-53;  // [0, 1)
  return lo + (hi - lo) * u;
}

double Rng::normal() {
  const double u1 = 1.0 - uniform(0.0, 1.0);  // (0, 1]: log stays finite
  const double u2 = uniform(0.0, 1.0);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

// ---------------------------------------------------------------- construction

static int count_obs(const mjModel* m, const TaskParams& p) {
  if (p.task == Task::Reacher) return 10;
  int n = m->nq + m->nv - p.skipped_qpos;
  if (p.task == Task::Ant) n += 6 * (m->nbody - 1);
  return n;
}

// Compile XML text; then, like reference.load_model, rescale to total_mass
// (the replacement for the deprecated <compiler settotalmass>).
static mjModel* compile_model(const std::string& xml, double total_mass) {
  char error[1000] = "";
  mjSpec* spec = mj_parseXMLString(xml.c_str(), nullptr, error, sizeof(error));
  if (!spec) throw std::runtime_error(std::string("could not parse the model XML: ") + error);
  mjModel* m = mj_compile(spec, nullptr);
  const std::string compile_error = m ? "" : mjs_getError(spec);
  mj_deleteSpec(spec);
  if (!m) throw std::runtime_error("could not compile the model: " + compile_error);
  if (total_mass > 0) {
    mj_setTotalmass(m, total_mass);
    mjData* d = mj_makeData(m);
    mj_setConst(m, d);
    mj_deleteData(d);
  }
  return m;
}

VecEnv::VecEnv(const std::string& xml, const TaskParams& params, int num_envs,
               int num_threads, std::uint64_t seed)
    : p_(params), pool_(num_threads) {
  if (num_envs < 1 || num_envs > ThreadPool::kMaxItems) {
    throw std::invalid_argument("num_envs must be in [1, " +
                                std::to_string(ThreadPool::kMaxItems) + "]");
  }
  base_ = compile_model(xml, p_.total_mass);
  obs_dim_ = count_obs(base_, p_);
  fingertip_ = mj_name2id(base_, mjOBJ_BODY, "fingertip");
  target_ = mj_name2id(base_, mjOBJ_BODY, "target");
  if (p_.task == Task::Reacher && (fingertip_ < 0 || target_ < 0)) {
    throw std::runtime_error("Reacher model needs bodies 'fingertip' and 'target'");
  }
  envs_.resize(num_envs);
  for (Env& e : envs_) {
    e.m = mj_copyModel(nullptr, base_);
    e.d = mj_makeData(e.m);
  }
  obs.assign(static_cast<size_t>(num_envs) * obs_dim_, 0.0);
  rewards.assign(num_envs, 0.0);
  terminated.assign(num_envs, 0);
  truncated.assign(num_envs, 0);
  unstable.assign(num_envs, 0);
  episode_steps.assign(num_envs, 0);
  info.assign(static_cast<size_t>(num_envs) * kNumInfo, 0.0);
  this->seed(seed);
}

VecEnv::~VecEnv() {
  for (Env& e : envs_) {
    mj_deleteData(e.d);
    mj_deleteModel(e.m);
  }
  mj_deleteModel(base_);
}

void VecEnv::seed(std::uint64_t seed) {
  // Env i's stream depends only on (seed, i): any thread count gives the same draws.
  for (size_t i = 0; i < envs_.size(); ++i) {
    envs_[i].rng.seed(seed * 0x100000001B3ULL + i);
  }
}

// ---------------------------------------------------------------- reset

void VecEnv::sample_state(Env& e, double* qpos, double* qvel) {
  const mjModel* m = e.m;
  const double s = p_.reset_noise_scale;
  if (p_.task == Task::Reacher) {
    for (int j = 0; j < m->nq; ++j) qpos[j] = m->qpos0[j] + e.rng.uniform(-0.1, 0.1);
    double gx, gy;
    do {  // rejection-sample a goal inside the disc of radius 0.2
      gx = e.rng.uniform(-0.2, 0.2);
      gy = e.rng.uniform(-0.2, 0.2);
    } while (std::sqrt(gx * gx + gy * gy) >= 0.2);
    qpos[m->nq - 2] = gx;
    qpos[m->nq - 1] = gy;
    for (int j = 0; j < m->nv; ++j) qvel[j] = e.rng.uniform(-0.005, 0.005);
    qvel[m->nv - 2] = qvel[m->nv - 1] = 0.0;
    return;
  }
  for (int j = 0; j < m->nq; ++j) qpos[j] = m->qpos0[j] + e.rng.uniform(-s, s);
  const bool gaussian = p_.task == Task::HalfCheetah || p_.task == Task::Ant;
  for (int j = 0; j < m->nv; ++j) qvel[j] = gaussian ? s * e.rng.normal() : e.rng.uniform(-s, s);
}

void VecEnv::reset_one(int i) {
  Env& e = envs_[i];
  std::vector<double> qpos(e.m->nq), qvel(e.m->nv);
  if (e.has_pending) {
    qpos = e.pending_qpos;
    qvel = e.pending_qvel;
    e.has_pending = false;
  } else {
    sample_state(e, qpos.data(), qvel.data());
  }
  // subtle: mj_resetData clears qacc_warmstart too; without it the solver starts
  // from the last episode's accelerations and the trajectory drifts in the last bits.
  mj_resetData(e.m, e.d);
  std::copy(qpos.begin(), qpos.end(), e.d->qpos);
  std::copy(qvel.begin(), qvel.end(), e.d->qvel);
  mj_forward(e.m, e.d);
  e.steps = 0;
  e.needs_reset = false;
  observe(i);
  reset_info(e, &info[static_cast<size_t>(i) * kNumInfo]);
  rewards[i] = 0.0;
  terminated[i] = truncated[i] = unstable[i] = 0;
  episode_steps[i] = 0;
}

void VecEnv::reset_all() {
  pool_.parallel_for(num_envs(), [this](int i) { reset_one(i); });
}

void VecEnv::queue_reset_state(int i, const double* qpos, const double* qvel) {
  Env& e = envs_[i];
  e.pending_qpos.assign(qpos, qpos + e.m->nq);
  e.pending_qvel.assign(qvel, qvel + e.m->nv);
  e.has_pending = true;
}

void VecEnv::set_dynamics(int i, const double* body_mass, const double* geom_friction,
                          const double* dof_damping) {
  mjModel* m = envs_[i].m;
  std::copy(body_mass, body_mass + m->nbody, m->body_mass);
  std::copy(geom_friction, geom_friction + 3 * m->ngeom, m->geom_friction);
  std::copy(dof_damping, dof_damping + m->nv, m->dof_damping);
}

void VecEnv::get_state(int i, double* qpos, double* qvel) const {
  const Env& e = envs_[i];
  std::copy(e.d->qpos, e.d->qpos + e.m->nq, qpos);
  std::copy(e.d->qvel, e.d->qvel + e.m->nv, qvel);
}

void VecEnv::set_state(int i, const double* qpos, const double* qvel) {
  // Gymnasium's MujocoEnv.set_state: only qpos and qvel change (time, warm
  // start and ctrl stay), then mj_forward; the episode continues from there.
  Env& e = envs_[i];
  std::copy(qpos, qpos + e.m->nq, e.d->qpos);
  std::copy(qvel, qvel + e.m->nv, e.d->qvel);
  mj_forward(e.m, e.d);
  if (p_.task == Task::Ant) mj_rnePostConstraint(e.m, e.d);
  e.needs_reset = false;
  observe(i);
}

// ---------------------------------------------------------------- rules

static double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

void VecEnv::tracked_position(const Env& e, double* out) const {
  if (p_.task == Task::Ant) {  // torso (body 1) xy, from the last kinematics pass
    out[0] = e.d->xpos[3];
    out[1] = e.d->xpos[4];
  } else {
    out[0] = e.d->qpos[0];
    out[1] = 0.0;
  }
}

void VecEnv::observe(int i) {
  const Env& e = envs_[i];
  const mjModel* m = e.m;
  const mjData* d = e.d;
  double* o = &obs[static_cast<size_t>(i) * obs_dim_];
  if (p_.task == Task::Reacher) {
    *o++ = std::cos(d->qpos[0]);
    *o++ = std::cos(d->qpos[1]);
    *o++ = std::sin(d->qpos[0]);
    *o++ = std::sin(d->qpos[1]);
    for (int j = 2; j < m->nq; ++j) *o++ = d->qpos[j];
    *o++ = d->qvel[0];
    *o++ = d->qvel[1];
    for (int k = 0; k < 2; ++k) *o++ = d->xpos[3 * fingertip_ + k] - d->xpos[3 * target_ + k];
    return;
  }
  for (int j = p_.skipped_qpos; j < m->nq; ++j) *o++ = d->qpos[j];
  for (int j = 0; j < m->nv; ++j) *o++ = clip(d->qvel[j], -p_.qvel_clip, p_.qvel_clip);
  if (p_.task == Task::Ant) {
    for (int j = 6; j < 6 * m->nbody; ++j) *o++ = clip(d->cfrc_ext[j], p_.force_lo, p_.force_hi);
  }
}

bool VecEnv::healthy(const Env& e) const {
  const mjModel* m = e.m;
  const mjData* d = e.d;
  if (p_.task == Task::Ant) {
    for (int j = 0; j < m->nq; ++j) if (!std::isfinite(d->qpos[j])) return false;
    for (int j = 0; j < m->nv; ++j) if (!std::isfinite(d->qvel[j])) return false;
    return p_.z_lo <= d->qpos[2] && d->qpos[2] <= p_.z_hi;  // closed interval
  }
  if (p_.task != Task::Hopper && p_.task != Task::Walker2d) return true;
  // subtle: Hopper and Walker2d use open intervals (NaN compares false: unhealthy).
  const double z = d->qpos[1], angle = d->qpos[2];
  if (!(p_.z_lo < z && z < p_.z_hi && p_.angle_lo < angle && angle < p_.angle_hi)) return false;
  if (p_.task == Task::Hopper) {
    for (int j = 2; j < m->nq; ++j)
      if (!(p_.state_lo < d->qpos[j] && d->qpos[j] < p_.state_hi)) return false;
    for (int j = 0; j < m->nv; ++j)
      if (!(p_.state_lo < d->qvel[j] && d->qvel[j] < p_.state_hi)) return false;
  }
  return true;
}

void VecEnv::reset_info(const Env& e, double* out) const {
  const double* qpos = e.d->qpos;
  std::fill(out, out + kNumInfo, 0.0);
  if (p_.task == Task::Reacher) return;  // Gymnasium's Reacher reports nothing at reset
  out[kXPosition] = qpos[0];
  out[kYPosition] = qpos[1];
  out[kDistanceFromOrigin] = std::sqrt(qpos[0] * qpos[0] + qpos[1] * qpos[1]);
  out[kZDistanceFromOrigin] = qpos[1] - e.m->qpos0[1];
}

void VecEnv::step_info(const Env& e, const double* before, const double* action,
                       double* out) const {
  const mjModel* m = e.m;
  const mjData* d = e.d;
  reset_info(e, out);
  double sq = 0.0;
  for (int j = 0; j < m->nu; ++j) sq += action[j] * action[j];
  out[kRewardCtrl] = -(p_.ctrl_cost_weight * sq);
  if (p_.task == Task::Reacher) {
    double dist = 0.0;
    for (int k = 0; k < 3; ++k) {
      const double v = d->xpos[3 * fingertip_ + k] - d->xpos[3 * target_ + k];
      dist += v * v;
    }
    out[kRewardDist] = -std::sqrt(dist);
    return;
  }
  double now[2];
  tracked_position(e, now);
  const double dt = m->opt.timestep * p_.frame_skip;
  out[kXVelocity] = (now[0] - before[0]) / dt;
  out[kYVelocity] = (now[1] - before[1]) / dt;
  out[kRewardForward] = p_.forward_reward_weight * out[kXVelocity];
  out[kRewardSurvive] = healthy(e) ? p_.healthy_reward : 0.0;
  double f2 = 0.0;
  if (p_.contact_cost_weight != 0.0) {
    for (int j = 0; j < 6 * m->nbody; ++j) {
      const double f = clip(d->cfrc_ext[j], p_.force_lo, p_.force_hi);
      f2 += f * f;
    }
  }
  out[kRewardContact] = -(p_.contact_cost_weight * f2);
}

double VecEnv::reward(const double* info) const {
  // reference.total_reward: Gymnasium's (gains) - (costs), in its order.
  if (p_.task == Task::Reacher) return info[kRewardDist] + info[kRewardCtrl];
  const double gains = info[kRewardForward] + info[kRewardSurvive];
  const double costs = -info[kRewardCtrl] - info[kRewardContact];
  return gains - costs;
}

// ---------------------------------------------------------------- step

static int bad_state_warnings(const mjData* d) {
  return d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number +
         d->warning[mjWARN_BADQACC].number;
}

void VecEnv::step_one(int i, const double* action) {
  Env& e = envs_[i];
  if (e.needs_reset && p_.autoreset) {  // NEXT_STEP autoreset: this step only resets
    reset_one(i);
    return;
  }
  double before[2];
  tracked_position(e, before);
  std::copy(action, action + e.m->nu, e.d->ctrl);
  const int warnings_before = bad_state_warnings(e.d);
  for (int k = 0; k < p_.frame_skip; ++k) mj_step(e.m, e.d);
  // Only Ant reads cfrc_ext, which only this call fills. Gymnasium calls it for
  // every task, but it writes outputs (cacc, cfrc_int, cfrc_ext) that the next
  // mj_step recomputes, so skipping it elsewhere changes no result.
  if (p_.task == Task::Ant) mj_rnePostConstraint(e.m, e.d);
  // MuJoCo resets a diverging simulation itself and counts a warning: flag and end it.
  const bool blew_up = bad_state_warnings(e.d) != warnings_before;
  double* row = &info[static_cast<size_t>(i) * kNumInfo];
  step_info(e, before, action, row);
  rewards[i] = reward(row);
  const bool term = p_.terminate_when_unhealthy && !healthy(e);
  e.steps += 1;
  const bool trunc = (p_.max_episode_steps > 0 && e.steps >= p_.max_episode_steps) || blew_up;
  observe(i);
  terminated[i] = term;
  truncated[i] = trunc;
  unstable[i] = blew_up;
  episode_steps[i] = e.steps;
  e.needs_reset = term || trunc;
}

void VecEnv::step(const double* actions) {
  const int nu = base_->nu;
  pool_.parallel_for(num_envs(), [this, actions, nu](int i) {
    step_one(i, actions + static_cast<size_t>(i) * nu);
  });
}

}  // namespace hubkit::mjenv
