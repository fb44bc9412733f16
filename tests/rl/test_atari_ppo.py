"""Atari through ale-py: the observation pipeline, the CNN actor-critic, and PPO/DQN smokes."""

import json

import numpy as np
import pytest
import torch

pytest.importorskip("ale_py", reason="ale-py is not installed (pip install ale-py)")

from hubkit.rl import atari_ppo  # noqa: E402


def test_frame_stack_shifts_one_84x84_frame_per_step_and_rewards_are_clipped():
    from hubkit.rl.atari import make_atari_env

    env = make_atari_env("ALE/Breakout-v5")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8 and obs.max() > 0
    for _ in range(5):
        nxt, reward, *_ = env.step(1)
        np.testing.assert_array_equal(nxt[:3], obs[1:])  # oldest frame dropped, newest last
        assert reward in (-1.0, 0.0, 1.0)
        obs = nxt
    env.close()


def test_vector_pipeline_is_next_step_and_feeds_the_cnn_policy():
    import gymnasium as gym

    envs = atari_ppo.make_atari_envs("ALE/Breakout-v5", 2)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, 4, 84, 84)
    policy = atari_ppo.atari_policy(envs.single_observation_space, envs.single_action_space)
    action, log_prob, value = policy.act(torch.as_tensor(obs, dtype=torch.float32))
    assert action.shape == (2,) and log_prob.shape == (2,) and value.shape == (2,)
    assert 0 <= int(action.min()) and int(action.max()) < envs.single_action_space.n
    obs, reward, term, trunc, _ = envs.step(policy.env_action(action))
    assert obs.shape == (2, 4, 84, 84) and reward.shape == (2,)
    envs.close()


def test_cnn_policy_shares_one_trunk_between_actor_and_critic():
    import gymnasium as gym

    policy = atari_ppo.atari_policy(gym.spaces.Box(0, 255, (4, 84, 84), np.uint8),
                                    gym.spaces.Discrete(4))
    assert policy.actor[0] is policy.critic[0]
    trunk = sum(p.numel() for p in policy.actor[0].parameters())
    heads = 513 * 4 + 513 * 1
    assert sum(p.numel() for p in policy.parameters()) == trunk + heads  # counted once
    frames = torch.full((1, 4, 84, 84), 255.0)
    assert torch.isfinite(policy.value(frames)).all()  # inputs scaled to [0, 1]


@pytest.mark.slow
def test_atari_ppo_command_smoke_writes_curve_policy_and_summary(tmp_path):
    out = tmp_path / "run"
    atari_ppo.main(["--env", "ALE/Pong-v5", "--total-steps", "512", "--num-envs", "2",
                    "--out", str(out), "--quiet"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 512
    assert {"curve.png", "policy.pt", "metrics.jsonl"} <= {p.name for p in out.iterdir()}


@pytest.mark.slow
def test_atari_dqn_command_smoke_writes_q_network(tmp_path):
    from hubkit.rl import atari

    atari.main(["--env", "ALE/Pong-v5", "--steps", "300", "--out", str(tmp_path / "dqn"),
                "--quiet"])
    assert (tmp_path / "dqn" / "q_network.pt").exists()
