"""GAE over a (T, N) rollout: hubkit's C++ sweep vs the reference Python loop over time.

Providers, same float32 inputs (bool dones), episodes ending about one step in fifty:
    hubkit-cpp        hubkit.rl.gae(..., backend="cpp")  (csrc/gae/gae.cpp)
    hubkit-reference  hubkit.rl.gae(..., backend="reference")  (a torch loop over T)

Run: pytest benchmarks/bench_gae.py --benchmark-json benchmarks/results/gae-cpu-DATE.json
Then: python -m benchmarks.bench_gae benchmarks/results/gae-cpu-DATE.json  (ratios; goal at
2048 x 64: cpp >= 10x the reference)
"""

from __future__ import annotations

import sys

import pytest
import torch

from benchmarks.conftest import ratios, record

SHAPES = [(2048, 64), (128, 8)]  # (T, N): PPO on MuJoCo, PPO on CartPole


def _inputs(t: int, n: int):
    gen = torch.Generator().manual_seed(0)
    rewards, values = torch.randn(t, n, generator=gen), torch.randn(t, n, generator=gen)
    dones = torch.rand(t, n, generator=gen) < 0.02  # bool, as a rollout passes them
    return rewards, values, dones, torch.randn(n, generator=gen)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("backend", ["cpp", "reference"])
def test_gae(benchmark, backend, shape):
    import hubkit

    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"{backend} not built here")
    from hubkit.rl import gae

    inputs = _inputs(*shape)
    fn = lambda: gae(*inputs, 0.99, 0.95, backend=backend)  # noqa: E731
    record(benchmark, op="gae", provider=f"hubkit-{backend}", shape=f"{shape[0]}x{shape[1]}",
           fn=fn, backend=backend, threads=torch.get_num_threads())
    benchmark(fn)


if __name__ == "__main__":
    print("\n".join(ratios(sys.argv[1], scale=1e3, unit="ms", digits=3)))
