"""The PyBullet KUKA reach env: Gymnasium's checker, a solvable task, and the BC command."""

import json

import numpy as np
import pytest

pytest.importorskip("pybullet", reason="needs pip install 'hubkit-learn[pybullet]'")
gym = pytest.importorskip("gymnasium")

from hubkit.envs import pybullet_reach as K  # noqa: E402


def test_passes_gymnasium_check_env():
    from gymnasium.utils.env_checker import check_env

    K.register()
    env = gym.make("hubkit/KukaReach-v0")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.spec.max_episode_steps == 100
    env.close()


def test_the_ik_expert_reaches_and_doing_nothing_does_not():
    ret_expert, dist_expert = K.mean_return(lambda env, obs: env.expert_action(), 3, seed=0)
    ret_zero, dist_zero = K.mean_return(lambda env, obs: np.zeros(K.N_JOINTS), 3, seed=0)
    assert dist_expert < 0.01 < 0.1 < dist_zero
    assert ret_expert > ret_zero + 10


def test_observation_matches_the_end_effector_and_target():
    env = K.KukaReachEnv()
    obs, info = env.reset(seed=3)
    np.testing.assert_allclose(obs[14:17], env.end_effector(), atol=1e-6)
    np.testing.assert_allclose(obs[17:20], env.end_effector() - env.target, atol=1e-6)
    assert np.isclose(info["distance"], np.linalg.norm(obs[17:20]), atol=1e-6)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(3))
    env.close()


def test_command_clones_the_expert(tmp_path, capsys):
    K.main(["--out", str(tmp_path), "--quiet", "--demos", "2", "--bc-steps", "20",
            "--eval-episodes", "1"])
    summary = json.loads((tmp_path / "results.json").read_text())
    assert set(summary["results"]) == {"expert (IK)", "behavioral cloning", "zero action"}
    assert summary["expert_pairs"] == 200
    assert "behavioral cloning" in capsys.readouterr().out
