"""Checks for exercise vector_rollout_cpp (used by exercises/vector_rollout_cpp/spec.py).

The checker compiles the learner's rollout.cpp against the mujoco wheel's
headers and libmujoco (`build_flags`), then calls, in its child process:

1. `check_independence`: env 0 alone, beside 3 other envs, and on 3 threads
   must give identical results (envs sharing an mjData fail here);
2. `check_parity`: Hopper and HalfCheetah across episode ends, obs, rewards
   and flags within 1e-10 of `hubkit.envs.reference`, from the same reset
   states (the first mismatch comes with a diagnosis);
3. `measure_speed`: env-steps/s on 16 HalfCheetah envs vs the Python reference.

Each check returns None or a message that teaches.
"""

from __future__ import annotations

import os
import time

import numpy as np

from hubkit.envs import reference as R
from hubkit.envs.vector import cpp_params

TASKS = ("Hopper", "HalfCheetah")
ATOL = 1e-10


def build_flags() -> dict:
    """Include dir and link arguments for code that uses the installed mujoco wheel."""
    from hubkit.check.build import CompileError

    try:
        import mujoco
    except ImportError as err:
        raise CompileError("this exercise needs mujoco: pip install 'hubkit-learn[gym]'") from err
    mj_dir = os.path.dirname(mujoco.__file__)
    libs = sorted(f for f in os.listdir(mj_dir) if f.startswith("libmujoco"))
    include = os.path.join(mj_dir, "include")
    if not libs or not os.path.isfile(os.path.join(include, "mujoco", "mujoco.h")):
        raise CompileError(f"the mujoco wheel in {mj_dir} lacks its headers or libmujoco")
    return {"include_dirs": [include],
            "link_args": [os.path.join(mj_dir, libs[0]), f"-Wl,-rpath,{mj_dir}"]}


def _new(mod, task: str, n: int, threads: int, limit: int):
    spec = R.task_spec(task).replace(max_episode_steps=limit)
    return mod.Rollout(R.xml_path(spec), cpp_params(spec), n, threads), spec


def _reset_states(spec, model, rng, n):
    # Larger velocity noise than Gymnasium's, so a reset that drops qvel shows.
    out = []
    for _ in range(n):
        qpos, _ = R.sample_reset_state(spec, model, rng)
        out.append((qpos, rng.uniform(-0.5, 0.5, model.nv)))
    return out


def _env0_trajectory(mod, n: int, threads: int, states, actions) -> np.ndarray:
    env, _ = _new(mod, "Hopper", n, threads, 0)
    for i in range(n):
        env.queue_reset_state(i, *states[i])
    env.reset_all()
    obs = []
    for a in actions:
        env.step(np.ascontiguousarray(a[:n]))
        obs.append(np.array(env.obs[0]))
    return np.stack(obs)


def check_independence(mod, seed: int = 0) -> str | None:
    """Env 0's trajectory must not depend on other envs or on the thread count."""
    spec = R.task_spec("Hopper")
    model = R.load_model(spec)
    rng = np.random.default_rng(seed)
    states = _reset_states(spec, model, rng, 4)
    actions = rng.uniform(-1, 1, (40, 4, model.nu))
    alone = _env0_trajectory(mod, 1, 1, states, actions)
    # subtle: one thread first, so envs that share an mjData are caught before
    # several threads step it at once (which may crash instead).
    if not np.array_equal(alone, _env0_trajectory(mod, 4, 1, states, actions)):
        return ("env 0 gives different results when other envs run beside it: "
                "every env needs its own mjData")
    if not np.array_equal(alone, _env0_trajectory(mod, 4, 3, states, actions)):
        return ("env 0 gives different results on 3 threads: every env needs its own "
                "mjData, touched by one thread at a time")
    return None


def _first_mismatch(got, want, what: str, t: int, reset_step: bool, nq: int) -> str | None:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    bad = np.argwhere(~np.isclose(got, want, rtol=0, atol=ATOL))
    if not len(bad):
        return None
    i = tuple(int(k) for k in bad[0])
    msg = (f"{what} differs at step {t}, index {i}: got {got[i]:.17g}, expected {want[i]:.17g} "
           f"(max abs error {np.nanmax(np.abs(got - want)):.3g})")
    if what == "obs" and reset_step and i[-1] >= nq - 1:
        msg += "; after a reset the velocity part is wrong: reset_env must set qvel too"
    elif what == "reward":
        msg += ("; observations match, so look at the reward: it must use the x position "
                "before and after the physics step")
    return msg


def check_parity(mod, task: str, n: int = 3, steps: int = 300, seed: int = 1) -> str | None:
    """Step the learner's rollout beside ReferenceVectorEnv with the same reset states."""
    env, spec = _new(mod, task, n, 2, 60)
    ref = R.ReferenceVectorEnv(spec, n, seed=seed)
    rng = np.random.default_rng(seed)
    for i, s in enumerate(_reset_states(spec, ref.model, rng, n)):
        env.queue_reset_state(i, *s)
        ref.queue_reset_state(i, *s)
    env.reset_all()
    msg = _first_mismatch(np.array(env.obs), ref.reset(), "obs", -1, True, ref.model.nq)
    for t in range(steps):
        if msg:
            return f"{task}: {msg}"
        was_reset = ref.needs_reset.copy()
        a = rng.uniform(-1, 1, (n, ref.action_dim))
        env.step(a)
        want = ref.step(a)
        got = (env.obs, env.rewards, env.terminated.astype(bool), env.truncated.astype(bool))
        for what, g, w in zip(("obs", "reward", "terminated", "truncated"), got, want,
                              strict=True):
            msg = msg or _first_mismatch(np.array(g), w, what, t, bool(was_reset.any()),
                                         ref.model.nq)
        for i, s in zip(np.flatnonzero(ref.needs_reset),
                        _reset_states(spec, ref.model, rng, int(ref.needs_reset.sum())),
                        strict=True):
            env.queue_reset_state(int(i), *s)
            ref.queue_reset_state(int(i), *s)
    return f"{task}: {msg}" if msg else None


def measure_speed(mod, n: int = 16, threads: int = 2, steps: int = 50) -> dict:
    """Env-steps/s of the learner's rollout and of the Python reference (HalfCheetah)."""
    env, spec = _new(mod, "HalfCheetah", n, threads, 1000)
    ref = R.ReferenceVectorEnv(spec, n, seed=0)
    env.reset_all()
    ref.reset()
    acts = np.random.default_rng(0).uniform(-1, 1, (steps, n, ref.action_dim))
    rates = {}
    for name, step in (("learner", env.step), ("reference", ref.step)):
        t0 = time.perf_counter()
        for a in acts:
            step(a)
        rates[name] = n * steps / (time.perf_counter() - t0)
    return {"env_steps_per_s": rates["learner"], "reference_env_steps_per_s": rates["reference"],
            "vs_reference": rates["learner"] / rates["reference"], "threads": threads}
