"""hubkit.rl.a2c: the loss, RMSprop, seeded runs, slow CartPole."""

from __future__ import annotations

import pytest
import torch

from hubkit.rl import a2c


def test_a2c_loss_weights_log_probs_by_detached_advantages():
    log_probs = torch.log(torch.tensor([0.5, 0.25])).requires_grad_()
    adv = torch.tensor([1.0, -2.0], requires_grad=True)
    loss = a2c.a2c_loss(log_probs, adv, torch.zeros(2), torch.zeros(2), torch.zeros(2), 0.5, 0.0)
    loss.backward()
    torch.testing.assert_close(log_probs.grad, torch.tensor([-0.5, 1.0]))
    assert adv.grad is None  # the advantage is a target, not a path for gradients


def test_a2c_loss_value_and_entropy_terms():
    z = torch.zeros(2)
    loss = a2c.a2c_loss(z, z, torch.tensor([1.0, 3.0]), z, torch.ones(2), vf_coef=0.5,
                        ent_coef=0.01)
    assert float(loss) == pytest.approx(0.5 * 5.0 - 0.01)


def test_a2c_uses_rmsprop_and_repeats_with_a_seed():
    cfg = a2c.A2CConfig(total_steps=200, num_envs=4, eval_every=0, seed=2)
    runs = [a2c.train(cfg).log for _ in range(2)]
    assert [r["loss"] for r in runs[0]] == [r["loss"] for r in runs[1]]
    opt = a2c.make_optimizer([torch.nn.Parameter(torch.zeros(1))], cfg)
    assert isinstance(opt, torch.optim.RMSprop)


@pytest.mark.slow
def test_a2c_solves_cartpole():
    """The committed run (benchmarks/results/rl-a2c-cartpole-*): seed 1, until solved."""
    result = a2c.train(a2c.A2CConfig(seed=1, solved_return=475.0))
    assert result.eval_return >= 475.0
