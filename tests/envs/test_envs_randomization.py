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

from hubkit.envs.dynamics import PARAMETERS  # noqa: E402
from hubkit.envs.randomization import (  # noqa: E402
    DomainRandomization,
    DynamicsRanges,
    plot_robustness,
    robustness_curve,
)
from hubkit.envs.reference import ReferenceVectorEnv, task_spec  # noqa: E402

RANGES = DynamicsRanges(mass=(0.5, 1.5), friction=(0.6, 0.9), damping=(1.1, 1.4))


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


def _both_randomized(seed: int, n: int = 3, limit: int = 10):
    """The reference env and the C++ wrapper, same ranges and seed, same reset states."""
    spec = task_spec("Hopper").replace(max_episode_steps=limit)
    ref = ReferenceVectorEnv(spec, n, dynamics=RANGES, dynamics_seed=seed)
    cpp = DomainRandomization(MujocoVectorEnv(spec, n, num_threads=2), RANGES, seed=seed)
    return ref, cpp


def _queue_same_states(ref, cpp, envs, rng) -> None:
    for i in envs:
        state = ref.model.qpos0 + rng.uniform(-0.01, 0.01, ref.model.nq), np.zeros(ref.model.nv)
        ref.queue_reset_state(int(i), *state)
        cpp.env.queue_reset_state(int(i), *state)


def test_reference_and_cpp_draw_the_same_dynamics_and_run_the_same_physics():
    ref, cpp = _both_randomized(seed=4)
    rng = np.random.default_rng(0)
    _queue_same_states(ref, cpp, range(3), rng)
    np.testing.assert_allclose(cpp.reset()[0], ref.reset(), rtol=0, atol=1e-10)
    np.testing.assert_array_equal(cpp.scales, ref.sampler.scales)
    for t in range(35):
        a = rng.uniform(-1, 1, (3, 3))
        want, got = ref.step(a), cpp.step(a)
        # Same draws, and the same physical parameters: else the trajectories part.
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-10, err_msg=f"step {t}")
        np.testing.assert_array_equal(cpp.scales, ref.sampler.scales, err_msg=f"step {t}")
        _queue_same_states(ref, cpp, np.flatnonzero(ref.needs_reset), rng)
    assert not np.array_equal(ref.sampler.scales, np.ones((3, 3)))


def test_reset_seed_reseeds_the_dynamics_draws_in_both_envs():
    ref, cpp = _both_randomized(seed=4)
    ref.reset(seed=9)
    cpp.reset(seed=9)
    fresh = ReferenceVectorEnv("Hopper", 3, dynamics=RANGES, dynamics_seed=9)
    fresh.reset()
    np.testing.assert_array_equal(ref.sampler.scales, fresh.sampler.scales)
    np.testing.assert_array_equal(cpp.scales, fresh.sampler.scales)
    other = ReferenceVectorEnv("Hopper", 3, dynamics=RANGES, dynamics_seed=10)
    other.reset()
    assert not np.array_equal(other.sampler.scales, fresh.sampler.scales)


def test_reference_scales_exactly_mass_friction_damping_by_draws_within_the_ranges():
    ref = ReferenceVectorEnv("Ant", 4, dynamics=RANGES, dynamics_seed=0)
    ref.reset()
    lows, highs = np.array([RANGES.mass, RANGES.friction, RANGES.damping]).T
    assert ((ref.sampler.scales >= lows) & (ref.sampler.scales <= highs)).all()
    assert PARAMETERS == ("body_mass", "geom_friction", "dof_damping")
    for i, model in enumerate(ref.models):
        for name, scale in zip(PARAMETERS, ref.sampler.scales[i], strict=True):
            np.testing.assert_allclose(getattr(model, name), getattr(ref.model, name) * scale,
                                       rtol=1e-15, err_msg=name)
        np.testing.assert_array_equal(model.geom_size, ref.model.geom_size)  # nothing else


def test_reference_without_dynamics_keeps_one_nominal_model():
    ref = ReferenceVectorEnv("Hopper", 2)
    assert all(m is ref.model for m in ref.models)
    with pytest.raises(ValueError, match="dynamics"):
        ref.set_dynamics(0, ref.model.body_mass, ref.model.geom_friction, ref.model.dof_damping)
    with pytest.raises(ValueError, match="friction"):
        ReferenceVectorEnv("Hopper", 2, dynamics=DynamicsRanges(friction=(1.2, 1.1)))
