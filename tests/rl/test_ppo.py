"""hubkit.rl.ppo: the clipped surrogate, the value clip, the loss, seeded runs, slow CartPole."""

from __future__ import annotations

import pytest
import torch

from hubkit.rl import ppo


def test_clip_is_on_the_ratio_not_the_advantage():
    old = torch.zeros(2)
    new = torch.log(torch.tensor([1.5, 0.5])).requires_grad_()  # ratios 1.5 and 0.5
    adv = torch.tensor([2.0, -2.0])
    loss = ppo.clipped_surrogate(new, old, adv, clip_coef=0.2)
    # min(1.5 * 2, 1.2 * 2) = 2.4 and min(0.5 * -2, 0.8 * -2) = -1.6: loss = -(2.4 - 1.6) / 2
    assert loss.item() == pytest.approx(-0.4)
    loss.backward()
    assert new.grad.tolist() == [0.0, 0.0]  # both ratios are past the clip: no gradient


def test_clipped_surrogate_keeps_the_gradient_inside_the_clip_range():
    new = torch.log(torch.tensor([1.1, 0.9])).requires_grad_()
    ppo.clipped_surrogate(new, torch.zeros(2), torch.tensor([1.0, -1.0]), 0.2).backward()
    torch.testing.assert_close(new.grad, torch.tensor([-0.55, 0.45]))  # -rho A / B


def test_value_loss_takes_the_larger_of_the_clipped_and_unclipped_error():
    values, old, ret = torch.tensor([3.0]), torch.tensor([0.0]), torch.tensor([1.0])
    assert float(ppo.value_loss(values, old, ret, None)) == pytest.approx(0.5 * 4.0)
    # clipped V = 0 + clamp(3, -.2, .2) = 0.2 -> error .64 < 4: the unclipped 4 is kept
    assert float(ppo.value_loss(values, old, ret, 0.2)) == pytest.approx(2.0)
    values = torch.tensor([0.9])  # unclipped error .01, clipped (0.2 - 1)^2 = .64
    assert float(ppo.value_loss(values, old, ret, 0.2)) == pytest.approx(0.32)


def test_ppo_loss_adds_value_and_subtracts_entropy():
    z, one = torch.zeros(4), torch.ones(4)
    base = ppo.ppo_loss(z, z, one, z, z, z, z, vf_coef=0.5, ent_coef=0.0)
    assert float(base) == pytest.approx(-1.0)
    with_terms = ppo.ppo_loss(z, z, one, z, z, 2 * one, 3 * one, vf_coef=0.5, ent_coef=0.1)
    assert float(with_terms) == pytest.approx(-1.0 + 0.5 * 0.5 * 4 - 0.1 * 3)


def _tiny(**kw):
    return ppo.PPOConfig(total_steps=256, num_envs=2, num_steps=32, eval_every=0, **kw)


def test_seeded_runs_repeat_their_losses_exactly():
    a, b = ppo.train(_tiny(seed=3)).log, ppo.train(_tiny(seed=3)).log
    losses = [row["loss"] for row in a]
    assert losses == [row["loss"] for row in b]
    assert losses != [row["loss"] for row in ppo.train(_tiny(seed=4)).log]


def test_learning_rate_anneals_linearly_to_zero():
    log = ppo.train(_tiny(lr=1e-3)).log
    assert [row["lr"] for row in log] == pytest.approx([1e-3 * (1 - u / 4) for u in range(4)])


@pytest.mark.parametrize("tanh_squash", [False, True], ids=["gaussian", "tanh"])
def test_ppo_runs_on_hubkit_mujoco_with_normalization(tanh_squash):
    pytest.importorskip("mujoco")
    cfg = ppo.PPOConfig(env_id="hubkit/Hopper-v5", total_steps=256, num_envs=2, num_steps=64,
                        eval_every=256, eval_episodes=1, norm_obs=True, norm_reward=True,
                        tanh_squash=tanh_squash, num_minibatches=2, update_epochs=1)
    result = ppo.train(cfg)
    assert result.steps == 256 and result.obs_stats is not None
    assert torch.isfinite(torch.tensor([row["loss"] for row in result.log])).all()


@pytest.mark.slow
def test_ppo_solves_cartpole():
    """The committed run (benchmarks/results/rl-ppo-cartpole-*): seed 1, until solved."""
    result = ppo.train(ppo.PPOConfig(seed=1, solved_return=475.0))
    assert result.eval_return >= 475.0
