"""Grading for exercise vector_rollout_cpp: build a learner's rollout.cpp, compare it
with the reference, time it.

`grade(path)` compiles the file against the installed mujoco wheel's headers
and libmujoco, then runs every check in a child process with a timeout (a
segfault or a hang is a verdict, not a crash of the checker):

1. independence: env 0 alone and env 0 beside other envs, with 1 and 3 threads,
   must give identical results (shared mjData between envs/threads fails here);
2. reset: the observation after reset_all must match the reference's;
3. parity: 300 steps of Hopper and HalfCheetah across episode ends, obs,
   rewards and flags within 1e-10 of `hubkit.envs.reference`;
4. speed: env-steps/s on 16 envs vs the Python reference (reported).

The verdict is a dict: {"passed": bool, "message": str, "speed": {...}}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
import time

import numpy as np

from hubkit.envs import reference as R
from hubkit.envs.vector import cpp_params

TASKS = ("Hopper", "HalfCheetah")
ATOL = 1e-10


def starter_from_solution(text: str) -> str:
    """The starter is the solution with each BEGIN/END SOLUTION block replaced by a TODO."""
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        if "// BEGIN SOLUTION" in line:
            skipping = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}// TODO: your code here (see the comment above)\n")
        elif "// END SOLUTION" in line:
            skipping = False
        elif not skipping:
            out.append(line)
    return "".join(out)


def build(cpp_path: str, out_dir: str, optimize: bool = True) -> tuple[str | None, str]:
    """Compile rollout.cpp into a Python module; returns (module path or None, compiler log)."""
    import mujoco
    import pybind11

    mj_dir = os.path.dirname(mujoco.__file__)
    lib = next(f for f in sorted(os.listdir(mj_dir)) if f.startswith("libmujoco.so"))
    out = os.path.join(out_dir, "rollout" + sysconfig.get_config_var("EXT_SUFFIX"))
    cmd = [os.environ.get("CXX", "c++"), "-O2" if optimize else "-O0", "-std=c++17", "-shared",
           "-fPIC", "-fvisibility=hidden", "-pthread",
           f"-I{pybind11.get_include()}", f"-I{sysconfig.get_paths()['include']}",
           f"-I{os.path.join(mj_dir, 'include')}", os.path.abspath(cpp_path), "-o", out,
           os.path.join(mj_dir, lib), f"-Wl,-rpath,{mj_dir}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    return (out if proc.returncode == 0 else None), proc.stderr[-3000:]


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


def check_independence(mod) -> str | None:
    """Env 0's trajectory must not depend on other envs or on the thread count."""
    spec = R.task_spec("Hopper")
    model = R.load_model(spec)
    rng = np.random.default_rng(0)
    states = _reset_states(spec, model, rng, 4)
    actions = rng.uniform(-1, 1, (40, 4, model.nu))
    runs = []
    for n, threads in [(1, 1), (4, 1), (4, 3)]:
        env, _ = _new(mod, "Hopper", n, threads, 0)
        for i in range(n):
            env.queue_reset_state(i, *states[i])
        env.reset_all()
        obs = []
        for a in actions:
            env.step(np.ascontiguousarray(a[:n]))
            obs.append(np.array(env.obs[0]))
        runs.append(np.stack(obs))
    if not (np.array_equal(runs[0], runs[1]) and np.array_equal(runs[1], runs[2])):
        return ("env 0 gives different results when other envs or threads run beside it: "
                "every env needs its own mjData, touched by one thread at a time")
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


def check_parity(mod, task: str, n: int = 3, steps: int = 300) -> str | None:
    """Step the learner's rollout beside ReferenceVectorEnv with the same reset states."""
    limit = 60
    env, spec = _new(mod, task, n, 2, limit)
    ref = R.ReferenceVectorEnv(spec, n, seed=0)
    rng = np.random.default_rng(1)
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


def _child(module_path: str, result_path: str, timed: bool = True) -> None:
    """Runs in the child process: import the learner module and run every check."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("rollout", module_path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    verdict = {"passed": False, "message": "", "speed": None}
    try:
        msg = check_independence(mod)
        for task in TASKS:
            msg = msg or check_parity(mod, task)
        if msg is None:
            verdict.update(passed=True, message="matches the reference to 1e-10",
                           speed=measure_speed(mod) if timed else None)
        else:
            verdict["message"] = msg
    except RuntimeError as err:
        verdict["message"] = str(err)
    with open(result_path, "w") as f:
        json.dump(verdict, f)


def grade(cpp_path: str, timeout: float = 120.0, timed: bool = True) -> dict:
    """Build and check a learner's rollout.cpp; returns the verdict dict.

    timed=False builds without optimization and skips the speed measurement
    (a quicker correctness-only verdict, used by hubkit's own tests).
    """
    with tempfile.TemporaryDirectory() as tmp:
        module, log = build(cpp_path, tmp, optimize=timed)
        if module is None:
            return {"passed": False, "message": f"does not compile:\n{log}", "speed": None}
        result = os.path.join(tmp, "verdict.json")
        code = (f"from hubkit.envs.rollout_check import _child; "
                f"_child({module!r}, {result!r}, {timed!r})")
        try:
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                  timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"passed": False, "message": f"timed out after {timeout:.0f}s", "speed": None}
        if not os.path.exists(result):
            return {"passed": False, "speed": None, "message":
                    f"crashed (exit code {proc.returncode}):\n{proc.stderr[-2000:]}"}
        with open(result) as f:
            return json.load(f)
