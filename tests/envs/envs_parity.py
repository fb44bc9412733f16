"""Shared helpers for the envs tests: drive a hubkit vector env beside Gymnasium's v5 envs.

(A plain module, not conftest.py, so `from envs_parity import ...` can never pick up
another folder's conftest.)
"""

from __future__ import annotations

import numpy as np

TASKS = ["HalfCheetah", "Hopper", "Walker2d", "Ant", "Reacher"]
# Short time limits so that 1000 steps cross several episode ends in every task.
LIMITS = {"HalfCheetah": 300, "Hopper": 200, "Walker2d": 200, "Ant": 200, "Reacher": 50}
HUBKIT_ONLY_KEYS = {"unstable"}


def _gym_reset(env, seed: int):
    obs, info = env.reset(seed=seed)
    data = env.unwrapped.data
    return obs, info, data.qpos.copy(), data.qvel.copy()


def random_actions(rng, space, n):
    """n actions of `space` as float32 values carried in float64, so both sides
    compute the control cost from exactly the same numbers."""
    a = rng.uniform(space.low, space.high, (n, space.shape[0])).astype(np.float32)
    return a.astype(np.float64)


def _check(t, got, want, what):
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10, err_msg=f"{what} at step {t}")


def env_info(vec, i: int, result) -> dict:
    """Env i's info: from Gymnasium-format vector infos (masks) or the reference's `infos`."""
    if hasattr(vec, "infos"):
        return vec.infos[i]
    infos = result[-1]
    return {k: v[i] for k, v in infos.items()
            if not k.startswith("_") and infos[f"_{k}"][i] and k not in HUBKIT_ONLY_KEYS}


def check_info(t, got: dict, want: dict, what: str) -> None:
    """Same keys in the same order as Gymnasium's info, values within 1e-10."""
    assert list(got) == list(want), f"{what} info keys at step {t}: {list(got)} != {list(want)}"
    for key, value in want.items():
        _check(t, got[key], value, f"{what} info[{key!r}]")


def run_gym_parity(task: str, vec, num_envs: int, steps: int) -> int:
    """Step `vec` and num_envs Gymnasium v5 envs with the same actions, injecting
    Gymnasium's reset states into `vec`; assert obs, rewards, flags and info equal
    to 1e-10, at reset too. Returns the number of episode ends."""
    import gymnasium as gym

    gyms = [gym.make(f"{task}-v5", max_episode_steps=LIMITS[task]) for _ in range(num_envs)]
    rng = np.random.default_rng(123)
    want_obs, want_info = [], []
    for i, env in enumerate(gyms):
        obs, info, qpos, qvel = _gym_reset(env, seed=i)
        vec.queue_reset_state(i, qpos, qvel)
        want_obs.append(obs)
        want_info.append(info)
    got = vec.reset()
    got_obs = got[0] if isinstance(got, tuple) else got  # VectorEnvs return (obs, infos)
    _check(-1, got_obs, np.stack(want_obs), "reset obs")
    for i in range(num_envs):
        check_info(-1, env_info(vec, i, got), want_info[i], f"{task} reset env {i}")
    done, pending, ends = [False] * num_envs, {}, 0
    for t in range(steps):
        actions = random_actions(rng, gyms[0].action_space, num_envs)
        result = vec.step(actions)
        obs, rew, term, trunc = (np.array(x) for x in result[:4])
        for i, env in enumerate(gyms):
            w = pending.pop(i) if done[i] else env.step(actions[i])
            _check(t, obs[i], w[0], f"{task} obs env {i}")
            _check(t, rew[i], w[1], f"{task} reward env {i}")
            assert (bool(term[i]), bool(trunc[i])) == (w[2], w[3]), f"{task} flags env {i} step {t}"
            check_info(t, env_info(vec, i, result), w[4], f"{task} env {i}")
            done[i] = bool(w[2] or w[3])
            if done[i]:
                ends += 1
                obs_i, info_i, qpos, qvel = _gym_reset(env, seed=10_000 + t * num_envs + i)
                pending[i] = (obs_i, 0.0, False, False, info_i)
                vec.queue_reset_state(i, qpos, qvel)
    return ends
