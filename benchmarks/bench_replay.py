"""Replay buffer speed: hubkit C++ vs hubkit's NumPy reference vs stable-baselines3 vs cpprb.

Run:  python -m pytest benchmarks/bench_replay.py \
          --benchmark-json benchmarks/results/replay-cpu-DATE.json
Then: python -m benchmarks.bench_replay benchmarks/results/replay-cpu-DATE.json  (ratios)

Cases: "vec" = obs of 4 float32, capacity 1M, full; "img" = obs 84x84x4 uint8, capacity
IMG_CAPACITY (each provider stores obs and next_obs: 56 KB a transition, so 1M would need
56 GB; the smaller ring keeps every provider under ~1.2 GB). Workloads: add of one
transition, add of a batch of 16, sample(256), prioritized sample(256) +
update_priorities(256). Every provider's sample ends in torch tensors (cpprb's NumPy
arrays are wrapped with torch.from_numpy, no copy). Providers not installed are skipped.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys

import numpy as np
import pytest
import torch

from benchmarks.conftest import ratios
from hubkit import _ext

VEC_CAPACITY, IMG_CAPACITY, BATCH = 1_000_000, 20_000, 256
CASES = {"vec": ((4,), np.float32, VEC_CAPACITY), "img": ((84, 84, 4), np.uint8, IMG_CAPACITY)}
PROVIDERS = ["hubkit-cpp", "hubkit-reference", "sb3", "cpprb"]


def _installed(provider: str) -> str | None:
    if provider == "hubkit-cpp":
        return None if _ext.cpp_module() is not None else "hubkit._C not built"
    module = {"sb3": "stable_baselines3", "cpprb": "cpprb"}.get(provider)
    if module and importlib.util.find_spec(module) is None:
        return f"{module} is not installed"
    return None


def rows(case: str, n: int, rng: np.random.Generator) -> dict:
    shape, dtype, _ = CASES[case]
    obs = rng.integers(0, 255, (n, *shape), dtype=np.uint8).astype(dtype, copy=False)
    return {"obs": obs, "next_obs": obs.copy(), "action": rng.integers(0, 4, n),
            "reward": rng.random(n).astype(np.float32), "done": rng.random(n) < 0.01}


class Hubkit:
    def __init__(self, case, backend, prioritized, n_envs):
        from hubkit.rl import PrioritizedReplayBuffer, ReplayBuffer

        shape, dtype, cap = CASES[case]
        cls = PrioritizedReplayBuffer if prioritized else ReplayBuffer
        self.buf = cls(cap, shape, dtype, (), np.int64, backend=backend)

    def add(self, r):
        self.buf.add(r["obs"], r["action"], r["reward"], r["next_obs"], r["done"])

    def one(self, r, i):
        """Transition i as an env loop hands it over, and the call that stores it."""
        args = (r["obs"][i], int(r["action"][i]), float(r["reward"][i]), r["next_obs"][i],
                bool(r["done"][i]))
        return self.buf.add, args, {}

    def fill(self, case, rng):
        for _ in range(0, CASES[case][2], 1_000):
            self.add(rows(case, 1_000, rng))

    def sample(self):
        return self.buf.sample(BATCH)

    def sample_update(self, prio):
        batch = self.buf.sample(BATCH)
        self.buf.update_priorities(batch.indices, prio)


class SB3:
    def __init__(self, case, backend, prioritized, n_envs):
        import gymnasium as gym
        from stable_baselines3.common.buffers import ReplayBuffer

        shape, dtype, cap = CASES[case]
        space = gym.spaces.Box(0, 255, shape, dtype)
        self.n_envs = n_envs
        self.buf = ReplayBuffer(cap, space, gym.spaces.Discrete(4), device="cpu", n_envs=n_envs,
                                handle_timeout_termination=False)
        self.infos = [{} for _ in range(n_envs)]

    def add(self, r):
        self.buf.add(r["obs"], r["next_obs"], r["action"], r["reward"], r["done"], self.infos)

    def one(self, r, i):
        sl = slice(i, i + 1)
        args = (r["obs"][sl], r["next_obs"][sl], r["action"][sl], r["reward"][sl],
                r["done"][sl], self.infos)
        return self.buf.add, args, {}

    def fill(self, case, rng):
        for start in range(0, self.buf.buffer_size, 1_000):  # straight into its arrays
            r, sl = rows(case, 1_000, rng), slice(start, start + 1_000)
            self.buf.observations[sl, 0], self.buf.next_observations[sl, 0] = r["obs"], r["obs"]
            self.buf.actions[sl, 0, 0], self.buf.rewards[sl, 0] = r["action"], r["reward"]
            self.buf.dones[sl, 0] = r["done"]
        self.buf.full = True

    def sample(self):
        return self.buf.sample(BATCH)


class Cpprb:
    def __init__(self, case, backend, prioritized, n_envs):
        import cpprb

        shape, dtype, cap = CASES[case]
        field = {"shape": shape, "dtype": dtype}
        env = {"obs": field, "next_obs": dict(field),
               "act": {"dtype": np.int64}, "rew": {"dtype": np.float32}, "done": {"dtype": bool}}
        self.prioritized = prioritized
        self.buf = (cpprb.PrioritizedReplayBuffer(cap, env, alpha=0.6) if prioritized
                    else cpprb.ReplayBuffer(cap, env))

    def add(self, r):
        self.buf.add(obs=r["obs"], next_obs=r["next_obs"], act=r["action"], rew=r["reward"],
                     done=r["done"])

    def one(self, r, i):
        kwargs = {"obs": r["obs"][i], "next_obs": r["next_obs"][i], "act": r["action"][i],
                  "rew": r["reward"][i], "done": r["done"][i]}
        return self.buf.add, (), kwargs

    def fill(self, case, rng):
        for _ in range(0, CASES[case][2], 1_000):
            self.add(rows(case, 1_000, rng))

    def sample(self):
        out = self.buf.sample(BATCH, beta=0.4) if self.prioritized else self.buf.sample(BATCH)
        return {k: torch.from_numpy(v) for k, v in out.items()}

    def sample_update(self, prio):
        out = self.buf.sample(BATCH, beta=0.4)
        batch = {k: torch.from_numpy(v) for k, v in out.items()}
        self.buf.update_priorities(out["indexes"], prio)
        return batch


def make(provider, case, prioritized=False, n_envs=1):
    reason = _installed(provider)
    if reason:
        pytest.skip(reason)
    if provider == "sb3" and prioritized:
        pytest.skip("stable-baselines3 has no prioritized replay buffer")
    cls = {"hubkit-cpp": Hubkit, "hubkit-reference": Hubkit, "sb3": SB3, "cpprb": Cpprb}
    backend = provider.removeprefix("hubkit-") if provider.startswith("hubkit") else None
    return cls[provider](case, backend, prioritized, n_envs)


def ran(buf) -> str:
    """The buffer class that really ran, with hubkit's resolved backend (and its core class)."""
    inner = buf.buf
    name = f"{type(inner).__module__}.{type(inner).__qualname__}"
    if hasattr(inner, "backend"):
        core = getattr(inner, "_core", None)  # subtle: an empty core has len 0, so test for None
        name += f" backend={inner.backend}" + (f" ({type(core).__qualname__})"
                                               if core is not None else "")
    return name


def tag(benchmark, group, provider, case, buf=None):
    benchmark.group = f"{group} [{case}]"
    shape, dtype, cap = CASES[case]
    benchmark.extra_info.update({"provider": provider, "case": case, "capacity": cap,
                                 "obs": f"{shape} {np.dtype(dtype)}", "batch": BATCH})
    if buf is not None:
        benchmark.extra_info["ran"] = ran(buf)
        if provider.startswith("hubkit-"):
            assert f"backend={provider.removeprefix('hubkit-')}" in benchmark.extra_info["ran"]


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_add_one(benchmark, provider, case):
    buf = make(provider, case)
    r = rows(case, 64, np.random.default_rng(0))
    calls = itertools.cycle([buf.one(r, i) for i in range(64)])  # built outside the timing
    tag(benchmark, "add 1", provider, case, buf)

    def add_one():
        fn, args, kwargs = next(calls)
        fn(*args, **kwargs)

    benchmark(add_one)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_add_batch_16(benchmark, provider, case):
    buf = make(provider, case, n_envs=16)
    r = rows(case, 16, np.random.default_rng(0))
    tag(benchmark, "add 16", provider, case, buf)
    benchmark(lambda: buf.add(r))


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_sample_256(benchmark, provider, case):
    buf = make(provider, case)
    buf.fill(case, np.random.default_rng(0))
    tag(benchmark, "sample 256", provider, case, buf)
    benchmark(buf.sample)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("provider", PROVIDERS)
def test_prioritized_sample_update_256(benchmark, provider, case):
    buf = make(provider, case, prioritized=True)
    buf.fill(case, np.random.default_rng(0))
    prio = np.random.default_rng(1).uniform(0.1, 2.0, BATCH)
    tag(benchmark, "prioritized sample 256 + update 256", provider, case, buf)
    benchmark(lambda: buf.sample_update(prio))


if __name__ == "__main__":
    print("\n".join(ratios(sys.argv[1], scale=1e6, unit="us", digits=1)))
