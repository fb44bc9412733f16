"""MuJoCo vector envs: hubkit's C++ thread pool vs the alternatives, env-steps/s.

Providers, all on HalfCheetah-v5 with N envs and the same thread count:
    hubkit      hubkit.envs.vector.MujocoVectorEnv (C++ pool, NEXT_STEP autoreset)
    reference   hubkit.envs.reference.ReferenceVectorEnv (Python loop)
    gym_sync    gymnasium SyncVectorEnv over Gymnasium's own v5 env
    gym_async   gymnasium AsyncVectorEnv (one process per env)
    envpool     EnvPool's C++ HalfCheetah-v5 (skipped if `envpool` is not installed)
    ceiling     mujoco.rollout: MuJoCo's own multi-threaded stepping, physics only
                (frame_skip mj_steps per env step, no observation, reward or reset)

Run: `pytest benchmarks/bench_envs.py --benchmark-columns=median,iqr`, or for the
interleaved table with ratios and thread scaling, written as JSON:
`python benchmarks/bench_envs.py --out benchmarks/results/envs-cpu-DATE.json`.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import provenance  # noqa: E402

TASK, N, STEPS = "HalfCheetah", 16, 20  # one timed call = STEPS env steps of N envs
THREADS = os.cpu_count() or 1


def _actions(num_envs: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.uniform(-1, 1, (steps, num_envs, 6))


def make_hubkit(num_envs=N, threads=THREADS):
    from hubkit.envs.vector import MujocoVectorEnv

    env = MujocoVectorEnv(TASK, num_envs=num_envs, num_threads=threads, copy=False)
    env.reset(seed=0)
    acts = _actions(num_envs, STEPS)
    return lambda: [env.step(a) for a in acts]


def make_reference(num_envs=N, threads=THREADS):
    from hubkit.envs.reference import ReferenceVectorEnv

    env = ReferenceVectorEnv(TASK, num_envs=num_envs, seed=0)
    env.reset()
    acts = _actions(num_envs, STEPS)
    return lambda: [env.step(a) for a in acts]


def _make_gym(mode: str, num_envs: int):
    import gymnasium as gym

    env = gym.make_vec(f"{TASK}-v5", num_envs=num_envs, vectorization_mode=mode)
    env.reset(seed=0)
    acts = _actions(num_envs, STEPS).astype(np.float32)
    return lambda: [env.step(a) for a in acts]


def make_gym_sync(num_envs=N, threads=THREADS):
    return _make_gym("sync", num_envs)


def make_gym_async(num_envs=N, threads=THREADS):
    return _make_gym("async", num_envs)


def make_envpool(num_envs=N, threads=THREADS):
    envpool = pytest.importorskip("envpool")
    env = envpool.make(f"{TASK}-v5", env_type="gymnasium", num_envs=num_envs,
                       num_threads=threads, seed=0)
    env.reset()
    acts = _actions(num_envs, STEPS)
    return lambda: [env.step(a) for a in acts]


def make_ceiling(num_envs=N, threads=THREADS):
    import mujoco
    from mujoco import rollout

    from hubkit.envs.reference import load_model, task_spec

    spec = task_spec(TASK)
    model = load_model(spec)
    datas = [mujoco.MjData(model) for _ in range(threads)]
    full = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state0 = np.zeros(mujoco.mj_stateSize(model, full))
    mujoco.mj_getState(model, datas[0], state0, full)
    ctrl = np.repeat(_actions(num_envs, STEPS).transpose(1, 0, 2), spec.frame_skip, axis=1)
    init = np.tile(state0, (num_envs, 1))
    out = np.empty((num_envs, STEPS * spec.frame_skip, state0.size))
    return lambda: rollout.rollout([model] * num_envs, datas, init, ctrl, state=out,
                                   persistent_pool=True)


RAN = {
    "hubkit": "hubkit.envs.vector.MujocoVectorEnv: hubkit._mujoco C++ thread pool",
    "envpool": "envpool HalfCheetah-v5 (C++ thread pool)",
    "gym_sync": "gymnasium SyncVectorEnv over gymnasium's HalfCheetah-v5 (one process)",
    "gym_async": "gymnasium AsyncVectorEnv over gymnasium's HalfCheetah-v5 (a process per env)",
    "reference": "hubkit.envs.reference.ReferenceVectorEnv (Python loop over mujoco.mj_step)",
    "ceiling": "mujoco.rollout.rollout: physics only, no observation, reward or reset",
}
PROVIDERS = {"hubkit": make_hubkit, "envpool": make_envpool, "gym_sync": make_gym_sync,
             "gym_async": make_gym_async, "reference": make_reference,
             "ceiling": make_ceiling}


@pytest.mark.mujoco
@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_vector_env_throughput(benchmark, provider):
    pytest.importorskip("mujoco")
    fn = PROVIDERS[provider]()
    benchmark.group = f"{TASK}-v5 N={N} threads={THREADS}"
    benchmark.extra_info.update({"op": "mujoco_vector_env", "provider": provider, "num_envs": N,
                                 "threads": THREADS, "env_steps_per_call": N * STEPS,
                                 "ran": RAN[provider]})
    benchmark.pedantic(fn, rounds=15, warmup_rounds=2)


def time_one(name: str, threads: int, rounds: int) -> tuple[float, float]:
    """(median env-steps/s, median CPU microseconds per env step) of one provider,
    alone in this process. CPU time counts every thread of this process (not
    gym_async's worker processes)."""
    fn = PROVIDERS[name](threads=threads)
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return N * STEPS / statistics.median(wall), 1e6 * statistics.median(cpu) / (N * STEPS)


def isolated(jobs: list[tuple[str, int]], rounds: int, passes: int):
    """Run each (provider, threads) in its own process, `passes` times in rotating
    order (so idle threads of one provider never slow another); medians per job:
    ({job: env-steps/s}, {job: CPU us per env step})."""
    runs: dict[str, list[tuple[float, float]]] = {f"{n}@{t}": [] for n, t in jobs}
    for p in range(passes):
        for name, threads in jobs[p % len(jobs):] + jobs[:p % len(jobs)]:
            cmd = [sys.executable, __file__, "--single", name, "--threads", str(threads),
                   "--rounds", str(rounds)]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            rate, cpu = out.strip().splitlines()[-1].split()
            runs[f"{name}@{threads}"].append((float(rate), float(cpu)))
    rates = {k: statistics.median(r for r, _ in v) for k, v in runs.items()}
    cpus = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    return rates, cpus


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=20, help="timed calls per process")
    p.add_argument("--passes", type=int, default=3, help="processes per provider")
    p.add_argument("--single", default=None, help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=THREADS)
    p.add_argument("--out", default=None)
    args = p.parse_args()
    if args.single:
        print(*time_one(args.single, args.threads, args.rounds))
        return
    names = [n for n in PROVIDERS if n != "envpool" or importlib.util.find_spec("envpool")]
    if "envpool" not in names:
        print("skipping envpool: not installed (pip install envpool)")
    threaded = ("hubkit", "envpool", "ceiling")  # the others ignore the thread count
    jobs = [(n, THREADS) for n in names] + [(n, 1) for n in names if n in threaded and THREADS > 1]
    start = provenance.Snapshot.take(per_process=True)
    rate, cpu = isolated(jobs, args.rounds, args.passes)
    full = {k.split("@")[0]: v for k, v in rate.items() if k.endswith(f"@{THREADS}")}
    one = {k.split("@")[0]: v for k, v in rate.items() if k.endswith("@1")}
    # CPU per env step at one thread: the work a step costs, free of any spin-waiting.
    work = {k.split("@")[0]: v for k, v in cpu.items()
            if (k.endswith("@1") or k.split("@")[0] not in threaded) and "gym_async" not in k}
    result = {
        "task": f"{TASK}-v5", "num_envs": N, "threads": THREADS, "steps_per_call": STEPS,
        f"env_steps_per_s_{THREADS}_threads": full,
        f"ratios_{THREADS}_threads": {f"hubkit/{k}": full["hubkit"] / v
                                      for k, v in full.items() if k != "hubkit"},
        "env_steps_per_s_1_thread": one,
        "cpu_us_per_env_step_1_thread": work,
        "cpu_cost_vs_hubkit": {f"{k}/hubkit": v / work["hubkit"]
                               for k, v in work.items() if k != "hubkit"},
        "ran": {n: RAN[n] for n in names},
        "provenance": provenance.record(start),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
