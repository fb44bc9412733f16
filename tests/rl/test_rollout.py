"""hubkit.rl.rollout: NEXT_STEP reset rows masked, truncation bootstrapped, batches, episodes."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

from hubkit.rl import normalize
from hubkit.rl.policies import make_policy
from hubkit.rl.rollout import Collector, RolloutBuffer, episode_complete, minibatches


def _collector(env_id="CartPole-v1", num_envs=3, num_steps=40, **kwargs):
    envs = normalize.make_envs(env_id, num_envs, **kwargs)
    torch.manual_seed(0)
    policy = make_policy(envs.single_observation_space, envs.single_action_space)
    return Collector(envs, policy, num_steps, seed=0)


def test_reset_rows_after_a_done_are_invalid_and_carry_no_reward():
    c = _collector(max_episode_steps=7)  # every episode ends by step 7
    c.collect()
    buf = c.buffer
    dones = buf.dones
    assert dones.any()
    after_done = torch.zeros_like(dones)
    after_done[1:] = dones[:-1]
    assert torch.equal(buf.valid, ~after_done)
    assert (buf.rewards[after_done] == 0).all()


def test_collector_continues_across_rollouts_with_the_done_flag():
    c = _collector(max_episode_steps=5, num_steps=5)  # a done on the last row of rollout 1
    c.collect()
    assert c.buffer.dones[-1].all()
    c.collect()
    assert not c.buffer.valid[0].any() and c.buffer.valid[1:].all()


def test_hubkit_vector_env_rollout_masks_its_reset_rows():
    pytest.importorskip("mujoco")
    c = _collector("hubkit/Hopper-v5", num_envs=2, num_steps=12, max_episode_steps=4)
    c.collect()
    buf = c.buffer
    assert buf.truncated[3].all() and not buf.valid[4].any() and buf.valid[5:8].all()
    assert len(c.episode_returns) >= 2


def test_truncated_steps_bootstrap_from_the_next_rows_value_terminated_do_not():
    buf = RolloutBuffer(3, 2, (1,), ())
    buf.rewards[:] = 1.0
    buf.values[:] = torch.tensor([[0.0, 0.0], [5.0, 7.0], [0.0, 0.0]])
    buf.truncated[0, 0] = True                      # time limit: add gamma * V(final obs)
    buf.terminated[0, 1] = buf.truncated[0, 1] = True  # both: a real end wins
    buf.truncated[2, 0] = True                      # last row: bootstrap from last_value
    r = buf.bootstrapped_rewards(torch.tensor([3.0, 4.0]), gamma=0.5)
    assert r.tolist() == [[3.5, 1.0], [1.0, 1.0], [2.5, 1.0]]


def test_batch_keeps_only_valid_rows_in_time_major_order():
    buf = RolloutBuffer(3, 2, (1,), ())
    buf.obs[..., 0] = torch.arange(6.0).reshape(3, 2)
    buf.valid[:] = True
    buf.valid[1, 0] = False
    batch = buf.batch(torch.zeros(3, 2), torch.zeros(3, 2))
    assert batch.obs[:, 0].tolist() == [0.0, 1.0, 3.0, 4.0, 5.0]


def test_minibatches_cover_every_row_once():
    buf = RolloutBuffer(5, 3, (2,), ())
    buf.valid[:] = True
    buf.obs[..., 0] = torch.arange(15.0).reshape(5, 3)
    batch = buf.batch(torch.zeros(5, 3), torch.zeros(5, 3))
    parts = list(minibatches(batch, 4, torch.Generator().manual_seed(0)))
    seen = torch.cat([p.obs[:, 0] for p in parts]).sort().values
    assert len(parts) == 4 and torch.equal(seen, torch.arange(15.0))


def test_episode_complete_marks_steps_up_to_each_envs_last_done():
    dones = torch.tensor([[0, 0], [1, 0], [0, 1], [0, 0]], dtype=torch.bool)
    want = [[True, True], [True, True], [False, True], [False, False]]
    assert episode_complete(dones).tolist() == want


def test_same_step_autoreset_is_refused():
    envs = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    policy = make_policy(envs.single_observation_space, envs.single_action_space)
    with pytest.raises(ValueError, match="envs: autoreset mode must be NEXT_STEP"):
        Collector(envs, policy, 4, seed=0)


def test_obs_normalization_is_frozen_in_the_eval_env():
    train = normalize.make_envs("CartPole-v1", 2, norm_obs=True)
    train.reset(seed=0)
    for _ in range(20):
        train.step(np.zeros(2, dtype=np.int64))
    evals = normalize.make_envs("CartPole-v1", 2, norm_obs=True)
    normalize.freeze_obs_normalization(evals, train)
    before = normalize.obs_statistics(evals)
    evals.reset(seed=1)
    evals.step(np.zeros(2, dtype=np.int64))
    assert normalize.obs_statistics(evals) == before == normalize.obs_statistics(train)
