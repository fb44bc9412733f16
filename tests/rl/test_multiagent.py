"""Cooperative multi-agent env, its vector adapter, and parameter-shared PPO."""

import numpy as np
import pytest
import torch

pytest.importorskip("pettingzoo")

from hubkit.rl import multiagent  # noqa: E402
from hubkit.rl.marl_envs import CooperativeSpread, SharedAgentsVectorEnv  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """Small networks on a shared 2-core machine run far faster on one torch thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_cooperative_spread_passes_pettingzoo_parallel_and_aec_api_tests():
    from pettingzoo.test import api_test, parallel_api_test
    from pettingzoo.utils.conversions import parallel_to_aec

    parallel_api_test(CooperativeSpread(num_agents=3, size=5), num_cycles=100)
    api_test(parallel_to_aec(CooperativeSpread(num_agents=2, size=4)), num_cycles=100)


def test_spread_reward_is_shared_and_zero_when_every_landmark_is_covered():
    env = CooperativeSpread(num_agents=2, size=5)
    env.reset(seed=1)
    env.landmarks = env.pos.copy()
    _, rewards, _, _, _ = env.step({"agent_0": 0, "agent_1": 0})  # both stay
    assert rewards == {"agent_0": 0.0, "agent_1": 0.0}
    env.pos, env.landmarks = np.array([[0, 0], [4, 4]]), np.array([[0, 2], [4, 4]])
    assert env.team_reward() == pytest.approx(-2 / 5)  # landmark 0 is 2 from its nearest agent


def test_spread_rejects_bad_arguments_by_name():
    with pytest.raises(ValueError, match="num_agents"):
        CooperativeSpread(num_agents=0)
    with pytest.raises(ValueError, match="size"):
        CooperativeSpread(size=1)


def test_shared_vector_env_has_one_row_per_agent_and_next_step_autoreset():
    envs = SharedAgentsVectorEnv([lambda: CooperativeSpread(2, 4, max_cycles=3)] * 2)
    obs, _ = envs.reset(seed=0)
    assert envs.num_envs == 4 and obs.shape == (4, 8)
    for _ in range(3):
        obs, rew, term, trunc, _ = envs.step(np.zeros(4, dtype=np.int64))
    assert trunc.all() and (rew < 0).any()
    reset_obs, rew, term, trunc, _ = envs.step(np.zeros(4, dtype=np.int64))
    assert (rew == 0).all() and not (term | trunc).any()  # the reset row, no reward
    fresh, _ = CooperativeSpread(2, 4).reset(seed=None)
    assert reset_obs.shape == obs.shape and fresh["agent_0"].shape == (8,)


def test_shared_ppo_trains_one_policy_on_every_agents_rows():
    cfg = multiagent.SpreadConfig(total_steps=2 * 4 * 20, num_envs=2, num_steps=20,
                                  agents=2, size=4, threads=1)
    result = multiagent.train_spread(cfg)
    assert result.steps == 2 * 4 * 20  # two updates of 4 rows (2 copies x 2 agents) x 20
    first = next(result.policy.actor.parameters())
    assert first.shape[1] == 8  # one agent's observation: the weights are shared, not stacked
    returns = multiagent.team_returns(result.policy, cfg, 3, seed=0)
    assert returns.shape == (3,) and (returns <= 0).all()


@pytest.mark.slow
def test_shared_ppo_beats_a_random_team_on_spread():
    cfg = multiagent.SpreadConfig(total_steps=120_000, agents=2, size=5)
    result = multiagent.train_spread(cfg)
    trained = multiagent.team_returns(result.policy, cfg, 50, seed=123, deterministic=False).mean()
    random = multiagent.team_returns(None, cfg, 50, seed=123).mean()
    assert trained > random + 2.0
