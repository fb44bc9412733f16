"""REINFORCE (Williams 1992), with and without a learned baseline.

The policy gradient theorem: grad J = E[ sum_t G_t grad log pi(a_t|s_t) ],
with G_t the discounted return from step t on (Monte Carlo: the episode must
end first). Subtracting a baseline b(s_t) that does not depend on the action
leaves the expectation unchanged and can shrink the variance a lot; the
usual baseline is a learned V(s), fitted to G_t by regression:

    loss = -E[(G_t - b(s_t)) log pi(a_t|s_t)] + E[(V(s_t) - G_t)^2]

Rollouts are T steps of N envs; G_t comes from `hubkit.rl.gae` with lambda 1
and V = 0, and only steps whose episode ends inside the rollout are used
(`rollout.episode_complete`). `gradient_variance` measures what the baseline
buys: the spread of the per-env gradient estimates of one rollout.

Shapes: B valid rows; every loss input is (B,).

Example:
    >>> cfg = ReinforceConfig(total_steps=1000, num_envs=2, num_steps=250, eval_every=0)
    >>> train(cfg).steps
    1000
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hubkit.rl import onpolicy
from hubkit.rl.gae import gae
from hubkit.rl.rollout import Batch, episode_complete


@dataclass
class ReinforceConfig(onpolicy.OnPolicyConfig):
    """REINFORCE's settings; with the defaults it learns CartPole-v1 in ~100k steps."""

    num_steps: int = 500
    """T steps per env per update (at least an episode's length, so most steps count)."""
    total_steps: int = 200_000
    """Env steps to train for."""
    lr: float = 1e-3
    """Adam learning rate."""
    baseline: bool = True
    """Subtract the learned V(s) from the return (and fit V)."""
    vf_coef: float = 0.5
    """Weight of the baseline's regression loss."""
    max_grad_norm: float = 0.0
    """No clipping: the gradient's variance is what this method is about."""
    measure_variance: bool = True
    """Log `grad_var`, the variance of the per-env policy-gradient estimates."""


def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor,
                   baseline: torch.Tensor | None = None) -> torch.Tensor:
    """-E[(G - b) log pi(a|s)] (scalar): the policy-gradient loss; b detached.

    Example:
        >>> lp = torch.log(torch.tensor([0.5, 0.25]))
        >>> round(float(reinforce_loss(lp, torch.tensor([1.0, 2.0]))), 4)  # -(ln .5 + 2 ln .25)/2
        1.7329
    """
    weight = returns if baseline is None else returns - baseline.detach()
    return -(weight * log_probs).mean()


def monte_carlo_batch(buffer, cfg: ReinforceConfig) -> Batch:
    """The rows whose episode ends in the rollout, with returns G_t and advantages G_t - b."""
    zeros = torch.zeros_like(buffer.values)
    # subtle: values 0 and lambda 1 make GAE's "return" the plain discounted sum of rewards.
    rewards = buffer.bootstrapped_rewards(zeros[0], cfg.gamma)
    returns, _ = gae(rewards, zeros, buffer.dones, zeros[0], cfg.gamma, 1.0,
                     backend=cfg.gae_backend)
    advantages = returns - buffer.values if cfg.baseline else returns
    return buffer.batch(advantages, returns, mask=episode_complete(buffer.dones))


def gradient_variance(policy, batch: Batch, rows_by_env: list[torch.Tensor]) -> float:
    """Mean over policy parameters of the variance of the per-env gradient estimates.

    NaN when fewer than two envs have a complete episode in the rollout.
    """
    if len(rows_by_env) < 2:
        return float("nan")
    params = list(policy.actor.parameters())
    grads = []
    for rows in rows_by_env:
        mb = batch.take(rows)
        loss = reinforce_loss(policy.distribution(mb.obs).log_prob(mb.actions), mb.advantages)
        grads.append(torch.cat([g.flatten() for g in torch.autograd.grad(loss, params)]))
    return float(torch.stack(grads).var(dim=0).mean())


def _rows_by_env(buffer) -> list[torch.Tensor]:
    """For each env, its rows' positions in `buffer.batch(...)` (complete episodes only)."""
    keep = buffer.valid & episode_complete(buffer.dones)  # (T, N)
    position = keep.flatten().cumsum(0).reshape(keep.shape) - 1
    return [position[keep[:, n], n] for n in range(keep.shape[1]) if keep[:, n].any()]


def update(policy, optimizer, collector, last_value, cfg: ReinforceConfig,
           gen: torch.Generator) -> dict:
    """One gradient step on the rollout's complete episodes."""
    batch = monte_carlo_batch(collector.buffer, cfg)
    if len(batch) == 0:
        return {"loss": float("nan")}
    stats = {}
    if cfg.measure_variance:
        stats["grad_var"] = gradient_variance(policy, batch, _rows_by_env(collector.buffer))
    loss = reinforce_loss(policy.distribution(batch.obs).log_prob(batch.actions),
                          batch.advantages)
    if cfg.baseline:
        loss = loss + cfg.vf_coef * (policy.value(batch.obs) - batch.returns).pow(2).mean()
    onpolicy.gradient_step(optimizer, loss, cfg.max_grad_norm)
    return {"loss": loss.item(), **stats}


def train(cfg: ReinforceConfig | None = None, **kwargs) -> onpolicy.TrainResult:
    """Train REINFORCE; kwargs (policy_factory, envs, progress) go to onpolicy.run."""
    return onpolicy.run(cfg or ReinforceConfig(), update, **kwargs)
