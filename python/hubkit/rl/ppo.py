"""Proximal Policy Optimization with a clipped objective (Schulman et al. 2017).

PPO (https://arxiv.org/abs/1707.06347) reuses each rollout for several epochs
of minibatch updates. To keep the new policy near the one that collected the
data, it maximizes the clipped surrogate

    L = E[ min(rho A, clip(rho, 1 - eps, 1 + eps) A) ],   rho = pi(a|s) / pi_old(a|s)

so moving rho past 1 +- eps in the direction the advantage rewards earns
nothing more. Plus, as in the common implementations (CleanRL, SB3): GAE
advantages normalized per minibatch, a clipped value loss, an entropy bonus,
gradient-norm clipping and learning-rate annealing.

Everything but the loss and the update is shared (`hubkit.rl.onpolicy`,
`rollout`, `policies`, `normalize`, `gae`).

Shapes: B rows in a minibatch; every loss input is (B,).

Example:
    >>> cfg = PPOConfig(total_steps=512, num_envs=2, num_steps=64, eval_every=0)
    >>> result = train(cfg)
    >>> result.steps
    512
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hubkit.rl import onpolicy
from hubkit.rl.rollout import Batch, minibatches


@dataclass
class PPOConfig(onpolicy.OnPolicyConfig):
    """PPO's settings; the defaults (CleanRL's ppo.py) solve CartPole-v1 on a laptop CPU."""

    num_envs: int = 4
    """N envs stepped side by side."""
    total_steps: int = 500_000
    """Env steps to train for, unless solved earlier."""
    anneal_lr: bool = True
    """Let the learning rate fall linearly to 0 over training."""
    update_epochs: int = 4
    """Passes over each rollout."""
    num_minibatches: int = 4
    """Minibatches per pass."""
    clip_coef: float = 0.2
    """eps: the ratio pi/pi_old is clipped to [1 - eps, 1 + eps]."""
    clip_vloss: bool = True
    """Clip the value's change to +- clip_coef around the old value, as the policy's ratio."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus."""
    norm_adv: bool = True
    """Normalize advantages to mean 0, std 1 within each minibatch."""
    target_kl: float | None = None
    """Stop an update's epochs early once the approximate KL passes this."""


def clipped_surrogate(log_probs: torch.Tensor, old_log_probs: torch.Tensor,
                      advantages: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """-E[min(rho A, clip(rho, 1-eps, 1+eps) A)], the policy loss to minimize (scalar)."""
    ratio = (log_probs - old_log_probs).exp()  # (B,)
    unclipped = ratio * advantages
    clipped = ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef) * advantages
    return -torch.min(unclipped, clipped).mean()


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               clip_coef: float | None) -> torch.Tensor:
    """0.5 E[(V - R)^2]; with clip_coef, the larger of that and the clipped V's error."""
    err = (values - returns).pow(2)
    if clip_coef is None:
        return 0.5 * err.mean()
    clipped = old_values + (values - old_values).clamp(-clip_coef, clip_coef)
    return 0.5 * torch.max(err, (clipped - returns).pow(2)).mean()


def ppo_loss(log_probs: torch.Tensor, old_log_probs: torch.Tensor, advantages: torch.Tensor,
             values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
             entropy: torch.Tensor, clip_coef: float = 0.2, vf_coef: float = 0.5,
             ent_coef: float = 0.01, clip_vloss: bool = True) -> torch.Tensor:
    """The PPO loss (scalar): clipped surrogate + vf_coef * value loss - ent_coef * entropy.

    Args:
        log_probs: (B,) log pi(a|s) under the policy being trained.
        old_log_probs: (B,) log pi_old(a|s) from the rollout.
        advantages: (B,) advantage estimates (normalized or not: the caller decides).
        values, old_values: (B,) V(s) now and at the rollout; returns: (B,) targets.
        entropy: (B,) entropy of pi(.|s).

    Example:
        >>> z = torch.zeros(3)
        >>> float(ppo_loss(z, z, torch.ones(3), z, z, torch.ones(3), z))
        -0.75
    """
    pg = clipped_surrogate(log_probs, old_log_probs, advantages, clip_coef)
    vf = value_loss(values, old_values, returns, clip_coef if clip_vloss else None)
    return pg + vf_coef * vf - ent_coef * entropy.mean()


def minibatch_loss(policy, mb: Batch, cfg: PPOConfig) -> tuple[torch.Tensor, dict]:
    """The PPO loss of one minibatch, and what to log about it."""
    dist = policy.distribution(mb.obs)
    log_probs, entropy, values = dist.log_prob(mb.actions), dist.entropy(), policy.value(mb.obs)
    adv = mb.advantages
    if cfg.norm_adv and len(adv) > 1:
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    loss = ppo_loss(log_probs, mb.log_probs, adv, values, mb.values, mb.returns, entropy,
                    cfg.clip_coef, cfg.vf_coef, cfg.ent_coef, cfg.clip_vloss)
    with torch.no_grad():
        log_ratio = log_probs - mb.log_probs
        stats = {"loss": loss.item(), "entropy": entropy.mean().item(),
                 # the low-variance KL estimator (ratio - 1) - log ratio (J. Schulman's blog)
                 "approx_kl": float(((log_ratio.exp() - 1) - log_ratio).mean()),
                 "clip_frac": float(((log_ratio.exp() - 1).abs() > cfg.clip_coef).float().mean())}
    return loss, stats


def update(policy, optimizer, collector, last_value, cfg: PPOConfig,
           gen: torch.Generator) -> dict:
    """update_epochs passes of minibatch steps over the rollout in collector.buffer."""
    buf = collector.buffer
    adv, ret = buf.advantages(last_value, cfg.gamma, cfg.gae_lambda, cfg.gae_backend)
    batch, stats = buf.batch(adv, ret), {}
    for _ in range(cfg.update_epochs):
        for mb in minibatches(batch, cfg.num_minibatches, gen):
            loss, stats = minibatch_loss(policy, mb, cfg)
            stats["grad_norm"] = onpolicy.gradient_step(optimizer, loss, cfg.max_grad_norm)
        if cfg.target_kl is not None and stats["approx_kl"] > cfg.target_kl:
            break
    return stats


def train(cfg: PPOConfig | None = None, **kwargs) -> onpolicy.TrainResult:
    """Train PPO; kwargs (policy_factory, envs, progress, make_optimizer) go to onpolicy.run."""
    return onpolicy.run(cfg or PPOConfig(), update, **kwargs)
