"""Shared helpers for the envs tests: drive a hubkit vector env beside Gymnasium's v5 envs.

(A plain module, not conftest.py, so `from envs_parity import ...` can never pick up
another folder's conftest.)
"""

from __future__ import annotations

import numpy as np

TASKS = ["HalfCheetah", "Hopper", "Walker2d", "Ant", "Reacher"]
# Short time limits so that 1000 steps cross several episode ends in every task.
LIMITS = {"HalfCheetah": 300, "Hopper": 200, "Walker2d": 200, "Ant": 200, "Reacher": 50}


def _gym_reset(env, seed: int):
    obs, _ = env.reset(seed=seed)
    data = env.unwrapped.data
    return obs, data.qpos.copy(), data.qvel.copy()


def _random_actions(rng, space, n):
    # float32 values (the action space's dtype) carried in float64, so both sides
    # compute the control cost from exactly the same numbers.
    a = rng.uniform(space.low, space.high, (n, space.shape[0])).astype(np.float32)
    return a.astype(np.float64)


def _check(t, got, want, what):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10, err_msg=f"{what} at step {t}")


def run_gym_parity(task: str, vec, num_envs: int, steps: int) -> int:
    """Step `vec` and num_envs Gymnasium v5 envs with the same actions, injecting
    Gymnasium's reset states into `vec`; assert equality to 1e-10. Returns episode ends."""
    import gymnasium as gym

    gyms = [gym.make(f"{task}-v5", max_episode_steps=LIMITS[task]) for _ in range(num_envs)]
    rng = np.random.default_rng(123)
    want_obs = []
    for i, env in enumerate(gyms):
        obs, qpos, qvel = _gym_reset(env, seed=i)
        vec.queue_reset_state(i, qpos, qvel)
        want_obs.append(obs)
    got = vec.reset()
    got = got[0] if isinstance(got, tuple) else got  # gymnasium VectorEnvs return (obs, infos)
    _check(-1, got, np.stack(want_obs), "reset obs")
    done, pending, ends = [False] * num_envs, {}, 0
    for t in range(steps):
        actions = _random_actions(rng, gyms[0].action_space, num_envs)
        obs, rew, term, trunc = (np.array(x) for x in vec.step(actions)[:4])
        for i, env in enumerate(gyms):
            if done[i]:
                w = (pending.pop(i), 0.0, False, False)
            else:
                w = env.step(actions[i])[:4]
            _check(t, obs[i], w[0], f"{task} obs env {i}")
            _check(t, rew[i], w[1], f"{task} reward env {i}")
            assert (bool(term[i]), bool(trunc[i])) == (w[2], w[3]), f"{task} flags env {i} step {t}"
            done[i] = bool(w[2] or w[3])
            if done[i]:
                ends += 1
                pending[i], qpos, qvel = _gym_reset(env, seed=10_000 + t * num_envs + i)
                vec.queue_reset_state(i, qpos, qvel)
    return ends
