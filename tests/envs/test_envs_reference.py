"""The Python reference vector env against Gymnasium's own v5 MuJoCo envs."""

from __future__ import annotations

import numpy as np
import pytest
from envs_parity import LIMITS, TASKS

pytestmark = pytest.mark.mujoco


@pytest.mark.parametrize("task", TASKS)
def test_reference_matches_gymnasium_v5_across_episode_ends(task, gym_parity):
    from hubkit.envs.reference import ReferenceVectorEnv, task_spec

    spec = task_spec(task).replace(max_episode_steps=LIMITS[task])
    vec = ReferenceVectorEnv(spec, num_envs=2, seed=0)
    ends = gym_parity(task, vec, num_envs=2, steps=1000)
    assert ends >= 2  # the run really crossed episode ends


def test_reference_same_seed_same_trajectory():
    pytest.importorskip("mujoco")
    from hubkit.envs.reference import ReferenceVectorEnv

    runs = []
    for _ in range(2):
        env = ReferenceVectorEnv("Hopper", num_envs=2, seed=7)
        obs = [env.reset()]
        for _ in range(30):
            obs.append(env.step(np.full((2, 3), 0.3))[0])
        runs.append(np.stack(obs))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_reference_rejects_bad_shapes():
    pytest.importorskip("mujoco")
    from hubkit.envs.reference import ReferenceVectorEnv

    with pytest.raises(ValueError, match="num_envs"):
        ReferenceVectorEnv("Hopper", num_envs=0)
    env = ReferenceVectorEnv("Hopper", num_envs=2)
    env.reset()
    with pytest.raises(ValueError, match="actions"):
        env.step(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="task"):
        ReferenceVectorEnv("Humanoid")


def test_halfcheetah_without_deprecated_settotalmass_is_the_same_model_bit_for_bit():
    mujoco = pytest.importorskip("mujoco")
    from hubkit.envs.reference import load_model, model_source, task_spec, xml_path

    spec = task_spec("HalfCheetah")
    text, total_mass = model_source(spec)
    assert "settotalmass" not in text and total_mass == 14.0
    ours, gyms = load_model(spec), mujoco.MjModel.from_xml_path(xml_path(spec))
    compared = 0
    for name in dir(gyms):
        value = getattr(gyms, name, None)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            np.testing.assert_array_equal(getattr(ours, name), value, err_msg=name)
            compared += 1
    assert compared > 50 and ours.body_mass.sum() == pytest.approx(14.0)
