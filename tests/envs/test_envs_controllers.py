"""The reach controller and the CEM gait, run on the C++ vector env."""

from __future__ import annotations

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

from hubkit.envs import controllers as C  # noqa: E402


def test_fingertip_matches_the_observed_offset_to_the_target():
    from hubkit.envs.vector import MujocoVectorEnv

    env = MujocoVectorEnv("Reacher", num_envs=3)
    obs, _ = env.reset(seed=1)
    qpos = np.stack([env.core.get_state(i)[0] for i in range(3)])
    target = qpos[:, 2:4]  # the target slides in the plane; its joints hold its xy
    np.testing.assert_allclose(C.fingertip(obs) - target, obs[:, 8:10], atol=1e-9)


def test_reach_controller_brings_fingertip_close_to_target():
    tips, targets = C.reacher_paths(num_envs=8, steps=50, seed=0)
    start = np.linalg.norm(tips[0] - targets, axis=1)
    end = np.linalg.norm(tips[-1] - targets, axis=1)
    assert np.median(end) < 0.02 and (end < start).all()


def test_cem_gait_runs_forward():
    best, history = C.cem_gait(C.CEMConfig(iterations=2, population=8, horizon=60))
    assert history.shape == (2,)
    assert C.cheetah_x(best, steps=60)[-1] > C.cheetah_x(np.zeros(19), steps=60)[-1] + 1.0


def test_trajectory_png_written(tmp_path):
    pytest.importorskip("matplotlib")
    path = C.plot_trajectories(str(tmp_path / "t.png"), gait=np.concatenate(
        [np.full(6, 0.5), np.zeros(12), [2.0]]))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
