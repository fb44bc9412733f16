"""Domain randomization on the C++ vector env, and the robustness plot."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import MujocoVectorEnv, load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit.envs.randomization import (  # noqa: E402
    DomainRandomization,
    DynamicsRanges,
    plot_robustness,
    robustness_curve,
)


def _scales_seen(seed: int, threads: int = 2) -> np.ndarray:
    env = DomainRandomization(MujocoVectorEnv("Hopper", 3, num_threads=threads,
                                              max_episode_steps=10), DynamicsRanges(), seed=seed)
    _, info = env.reset(seed=seed)
    seen = [info["dynamics_scale"]]
    obs = []
    for _ in range(33):
        o, *_ = env.step(np.full((3, 3), 0.2))
        seen.append(env.scales.copy())
        obs.append(o)
    return np.concatenate([np.concatenate(seen).ravel(), np.concatenate(obs).ravel()])


def test_dynamics_drawn_in_range_and_changed_each_episode():
    env = DomainRandomization(MujocoVectorEnv("Hopper", 2, max_episode_steps=5),
                              DynamicsRanges(mass=(0.5, 0.6)), seed=0)
    _, info = env.reset(seed=0)
    first = info["dynamics_scale"].copy()
    assert ((first[:, 0] >= 0.5) & (first[:, 0] <= 0.6)).all()
    for _ in range(5):
        env.step(np.zeros((2, 3)))
    assert not np.array_equal(env.scales, first)  # episode ended -> new draw


def test_randomization_reproducible_from_seed_for_any_thread_count():
    np.testing.assert_array_equal(_scales_seen(4, threads=1), _scales_seen(4, threads=3))
    assert not np.array_equal(_scales_seen(4), _scales_seen(5))


def test_heavier_cheetah_changes_the_trajectory():
    def run(size):
        env = DomainRandomization(MujocoVectorEnv("HalfCheetah", 1),
                                  DynamicsRanges(mass=(size, size)), seed=0)
        env.reset(seed=0)
        return env.step(np.ones((1, 6)))[0]

    assert not np.allclose(run(1.0), run(2.0))


def test_bad_ranges_raise():
    with pytest.raises(ValueError, match="mass"):
        DomainRandomization(MujocoVectorEnv("Hopper", 1), DynamicsRanges(mass=(0.0, 1.0)))
    with pytest.raises(ValueError, match="size"):
        DynamicsRanges.symmetric(1.5)


def test_robustness_curve_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    from hubkit.envs.controllers import reach_policy

    sizes = (0.0, 0.5)
    curve = robustness_curve("Reacher", lambda: reach_policy, sizes=sizes, num_envs=2, steps=30)
    assert curve.shape == (2,) and np.isfinite(curve).all()
    path = plot_robustness(sizes, {"reach": curve}, str(tmp_path / "r.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
