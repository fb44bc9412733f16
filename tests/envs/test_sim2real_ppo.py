"""The randomized training env and the strategies run (hubkit.envs.sim2real_ppo)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
try:
    from hubkit.envs.vector import load_extension

    load_extension()
except ImportError:
    pytest.skip("hubkit._mujoco was not built", allow_module_level=True)

from hubkit.envs.sim2real_ppo import RandomizedVectorEnv, main, ranges_for  # noqa: E402


def test_one_kind_leaves_the_other_perturbations_nominal():
    dyn, pert = ranges_for("gain", 0.5)
    assert pert.gain == (0.5, 1.5) and pert.delay == (0, 0) and pert.obs_noise == 0
    assert dyn.mass == dyn.friction == dyn.damping == (1.0, 1.0)
    dyn, pert = ranges_for("all", 0.5)
    assert dyn.mass == (0.5, 1.5) and pert.delay == (0, 1) and pert.obs_noise > 0
    with pytest.raises(ValueError, match="kind"):
        ranges_for("wind", 0.1)


def test_history_holds_the_last_k_observations_and_restarts_each_episode():
    plain = RandomizedVectorEnv("Reacher", 2, seed=0)
    stacked = RandomizedVectorEnv("Reacher", 2, history=3, seed=0)
    first, _ = plain.reset(seed=0)
    np.testing.assert_array_equal(stacked.reset(seed=0)[0], np.tile(first, 3))
    seen = [first]
    for t in range(51):  # 50 steps end the episode; step 51 is the NEXT_STEP reset
        a = np.full((2, 2), 0.3)
        o, got = plain.step(a)[0], stacked.step(a)[0]
        seen.append(o)
        want = np.tile(o, 3) if t == 50 else np.concatenate(
            [seen[max(len(seen) - 3 + k, 0)] for k in range(3)], 1)
        np.testing.assert_array_equal(got, want, err_msg=f"step {t}")


def test_curriculum_grows_the_size_linearly_to_its_maximum():
    env = RandomizedVectorEnv("Reacher", 4, size=0.6, ramp_steps=80, seed=0)
    env.reset(seed=0)
    assert env.current_size() == 0 and env.inner.p.gain == (1.0, 1.0)
    for _ in range(10):
        env.step(np.zeros((4, 2)))
    assert env.current_size() == pytest.approx(0.3)
    assert env.dr.sampler.ranges.mass == pytest.approx((0.7, 1.3))
    for _ in range(20):
        env.step(np.zeros((4, 2)))
    assert env.current_size() == pytest.approx(0.6)


@pytest.mark.slow
def test_cli_trains_and_writes_curves(tmp_path):
    pytest.importorskip("matplotlib")
    main(["--out", str(tmp_path), "--steps", "2048", "--strategies", "none", "adaptive",
          "--quiet"])
    curves = json.loads((tmp_path / "results.json").read_text())["curves"]
    assert set(curves) == {"none", "adaptive"} and len(curves["none"]["all"]) == 5
    assert (tmp_path / "robustness.png").read_bytes()[:4] == b"\x89PNG"
