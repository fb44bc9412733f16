"""hubkit.rl.reinforce: Monte Carlo returns on complete episodes, the loss, gradient variance."""

from __future__ import annotations

import pytest
import torch

from hubkit.rl import reinforce
from hubkit.rl.rollout import RolloutBuffer


def test_reinforce_loss_weights_by_return_minus_baseline():
    lp = torch.log(torch.tensor([0.5, 0.25]))
    g = torch.tensor([1.0, 2.0])
    assert float(reinforce.reinforce_loss(lp, g)) == pytest.approx(
        -(1.0 * lp[0] + 2.0 * lp[1]) / 2)
    b = torch.tensor([1.0, 1.0], requires_grad=True)
    loss = reinforce.reinforce_loss(lp, g, b)
    assert float(loss) == pytest.approx(-(1.0 * lp[1]) / 2)
    assert not loss.requires_grad  # the baseline is detached


def test_monte_carlo_batch_holds_discounted_returns_of_complete_episodes_only():
    buf = RolloutBuffer(4, 1, (1,), ())
    buf.rewards[:, 0] = torch.tensor([1.0, 2.0, 0.0, 5.0])
    buf.terminated[1, 0] = True  # episode 1: steps 0-1; step 2 is the reset row
    buf.valid[:] = True
    buf.valid[2] = False
    buf.values[:] = 0.5
    cfg = reinforce.ReinforceConfig(gamma=0.5, baseline=True)
    batch = reinforce.monte_carlo_batch(buf, cfg)
    assert batch.returns.tolist() == [2.0, 2.0]  # 1 + .5 * 2, then 2; step 3 never ended
    assert batch.advantages.tolist() == [1.5, 1.5]


def test_runs_log_gradient_variance_and_repeat_with_a_seed():
    cfg = reinforce.ReinforceConfig(total_steps=1000, num_envs=4, num_steps=250, eval_every=0,
                                    seed=5)
    a, b = reinforce.train(cfg).log, reinforce.train(cfg).log
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert all(r["grad_var"] > 0 for r in a)


def test_gradient_variance_is_zero_for_identical_estimates(gen):
    import gymnasium as gym

    from hubkit.rl.policies import make_policy
    from hubkit.rl.rollout import Batch

    pi = make_policy(gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2))
    obs = torch.randn(1, 3, generator=gen).repeat(4, 1)
    one = torch.ones(4)
    batch = Batch(obs, torch.zeros(4, dtype=torch.int64), one, one, one, one)
    rows = [torch.tensor([0, 1]), torch.tensor([2, 3])]
    assert reinforce.gradient_variance(pi, batch, rows) == pytest.approx(0.0, abs=1e-12)
    batch.advantages = torch.tensor([1.0, 1.0, 3.0, 3.0])
    assert reinforce.gradient_variance(pi, batch, rows) > 0
