// Exercise vector_rollout_cpp: one MuJoCo env's reset and step, Gymnasium v5 rules.
//
// rollout.h gives the thread pool, Params, Env, Out, observe() and healthy();
// bindings.cpp runs step_env for every env on the pool. The spec is
// hubkit.envs.reference (reset_to, physics_step, reward, is_healthy).
#include "rollout.h"

// Give every env its simulation state (envs[i].d). Threads step different
// envs at the same time.
void init_envs(const mjModel* m, std::vector<Env>& envs) {
  // BEGIN SOLUTION
  // starter> (void)m; (void)envs;  // Step 0: allocate the envs' mjData
  // starter> throw std::runtime_error("init_envs: not implemented yet");
  for (Env& e : envs) e.d = mj_makeData(m);
  // END SOLUTION
}

// Put env `e` at (qpos, qvel): clear ALL of mjData first (time, controls, the
// solver's warm start), set the state, recompute what depends on it
// (mj_forward), and start a new episode.
void reset_env(const mjModel* m, Env& e, const double* qpos, const double* qvel) {
  // BEGIN SOLUTION
  // starter> (void)m; (void)e; (void)qpos; (void)qvel;  // Step 1
  mj_resetData(m, e.d);
  std::copy(qpos, qpos + m->nq, e.d->qpos);
  std::copy(qvel, qvel + m->nv, e.d->qvel);
  mj_forward(m, e.d);
  e.steps = 0;
  e.needs_reset = false;
  // END SOLUTION
}

// One env step; returns true once written.
// If the previous step ended the episode (NEXT_STEP autoreset): only reset to
// (e.reset_qpos, e.reset_qvel), write the observation, reward 0, flags false.
// Else: action -> d->ctrl, mj_step frame_skip times, then from the new state
//   reward = forward_reward_weight * (x_after - x_before) / (timestep * frame_skip)
//            + healthy_reward * healthy - ctrl_cost_weight * |action|^2
//   terminated = terminate_when_unhealthy && !healthy
//   truncated  = max_episode_steps > 0 && steps in this episode >= max_episode_steps
bool step_env(const mjModel* m, const Params& p, Env& e, const double* action, Out out) {
  // BEGIN SOLUTION
  // starter> (void)m; (void)p; (void)e; (void)action; (void)out;  // Steps 2-4
  // starter> return false;  // the checker reports "not implemented yet" until this is gone
  if (e.needs_reset) {
    reset_env(m, e, e.reset_qpos.data(), e.reset_qvel.data());
    observe(m, e.d, p, out.obs);
    *out.reward = 0.0;
    *out.terminated = *out.truncated = 0;
    return true;
  }
  const double x_before = e.d->qpos[0];
  std::copy(action, action + m->nu, e.d->ctrl);
  for (int k = 0; k < p.frame_skip; ++k) mj_step(m, e.d);
  const double dt = m->opt.timestep * p.frame_skip;
  const bool ok = healthy(m, e.d, p);
  double ctrl = 0.0;
  for (int j = 0; j < m->nu; ++j) ctrl += action[j] * action[j];
  const double gains = p.forward_reward_weight * ((e.d->qpos[0] - x_before) / dt) +
                       (ok ? p.healthy_reward : 0.0);
  *out.reward = gains - p.ctrl_cost_weight * ctrl;
  e.steps += 1;
  const bool term = p.terminate_when_unhealthy && !ok;
  const bool trunc = p.max_episode_steps > 0 && e.steps >= p.max_episode_steps;
  observe(m, e.d, p, out.obs);
  *out.terminated = term;
  *out.truncated = trunc;
  e.needs_reset = term || trunc;
  return true;
  // END SOLUTION
}
