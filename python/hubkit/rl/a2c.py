"""Advantage Actor-Critic, synchronous (A2C; Mnih et al. 2016's A3C without the asynchrony).

A2C (https://arxiv.org/abs/1602.01783) takes one gradient step per short
rollout (T = 5 steps of N envs) on

    loss = -E[A log pi(a|s)] + vf_coef E[(V(s) - R)^2] - ent_coef E[H(pi(.|s))]

with A the n-step (or GAE) advantage from the critic and R = A + V(s) its
target. The many envs decorrelate the batch, which is what replay does for
DQN. Defaults are stable-baselines3's: RMSprop, lr 7e-4, lambda 1 (plain
n-step returns). Everything but the loss is shared (`hubkit.rl.onpolicy`).

Shapes: B valid rows of the rollout; every loss input is (B,).

Example:
    >>> result = train(A2CConfig(total_steps=400, num_envs=4, eval_every=0))
    >>> result.steps
    400
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hubkit.rl import onpolicy


@dataclass
class A2CConfig(onpolicy.OnPolicyConfig):
    """A2C's settings (stable-baselines3's defaults)."""

    num_steps: int = 5
    """T steps per env per update."""
    total_steps: int = 500_000
    """Env steps to train for, unless solved earlier."""
    lr: float = 7e-4
    """RMSprop learning rate."""
    gae_lambda: float = 1.0
    """1: n-step returns bootstrapped from the critic after T steps."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    norm_adv: bool = False
    """Normalize the rollout's advantages to mean 0, std 1."""


def a2c_loss(log_probs: torch.Tensor, advantages: torch.Tensor, values: torch.Tensor,
             returns: torch.Tensor, entropy: torch.Tensor, vf_coef: float,
             ent_coef: float) -> torch.Tensor:
    """-E[A log pi] + vf_coef E[(V - R)^2] - ent_coef E[H]; every input (B,), A detached."""
    policy_loss = -(advantages.detach() * log_probs).mean()
    return policy_loss + vf_coef * (values - returns).pow(2).mean() - ent_coef * entropy.mean()


def make_optimizer(params, cfg: A2CConfig) -> torch.optim.Optimizer:
    """RMSprop as stable-baselines3's A2C (alpha 0.99, eps 1e-5)."""
    return torch.optim.RMSprop(params, lr=cfg.lr, alpha=0.99, eps=1e-5)


def update(policy, optimizer, collector, last_value, cfg: A2CConfig,
           gen: torch.Generator) -> dict:
    """One gradient step on the whole rollout in collector.buffer."""
    buf = collector.buffer
    adv, ret = buf.advantages(last_value, cfg.gamma, cfg.gae_lambda, cfg.gae_backend)
    batch = buf.batch(adv, ret)
    if cfg.norm_adv and len(batch) > 1:
        batch.advantages = (batch.advantages - batch.advantages.mean()) / (
            batch.advantages.std() + 1e-8)
    dist = policy.distribution(batch.obs)
    entropy = dist.entropy()
    loss = a2c_loss(dist.log_prob(batch.actions), batch.advantages, policy.value(batch.obs),
                    batch.returns, entropy, cfg.vf_coef, cfg.ent_coef)
    grad_norm = onpolicy.gradient_step(optimizer, loss, cfg.max_grad_norm)
    return {"loss": loss.item(), "entropy": entropy.mean().item(), "grad_norm": grad_norm}


def train(cfg: A2CConfig | None = None, **kwargs) -> onpolicy.TrainResult:
    """Train A2C; kwargs (policy_factory, envs, progress) go to onpolicy.run."""
    cfg = cfg or A2CConfig()
    kwargs.setdefault("make_optimizer", lambda params: make_optimizer(params, cfg))
    return onpolicy.run(cfg, update, **kwargs)
