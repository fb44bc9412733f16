"""Generalized advantage estimation, the readable loop (the spec of `hubkit.rl.gae`).

GAE (Schulman et al. 2016, https://arxiv.org/abs/1506.02438) blends n-step
advantage estimates with weights lambda^n:

    delta_t = r_t + gamma * (1 - done_t) * V(s_{t+1}) - V(s_t)
    A_t     = delta_t + gamma * lam * (1 - done_t) * A_{t+1}
    R_t     = A_t + V(s_t)           (the value target)

`done_t = 1` means the episode ended at step t: nothing after t is read, neither
V(s_{t+1}) nor A_{t+1}. lam = 0 gives the one-step TD error, lam = 1 the Monte
Carlo return minus V(s_t).

Shapes: T steps, N envs; rewards, values, dones (T, N); last_value (N,) is
V(s_T), the value of the observation after the last step.
"""

from __future__ import annotations

import torch


def gae_reference(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor,
                  last_value: torch.Tensor, gamma: float,
                  lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE with a Python loop over time (vectorized over envs).

    Args:
        rewards: (T, N) reward of each step.
        values: (T, N) V(s_t) of the observation each step acted on.
        dones: (T, N) 1 where the episode ended at step t, else 0 (same dtype).
        last_value: (N,) V(s_T) to bootstrap the last step from.
        gamma: discount; lam: GAE lambda.

    Returns:
        advantages (T, N) and returns = advantages + values (T, N).

    Example:
        >>> r = torch.tensor([[1.0], [1.0]]); v = torch.zeros(2, 1); d = torch.zeros(2, 1)
        >>> adv, ret = gae_reference(r, v, d, torch.zeros(1), gamma=0.5, lam=1.0)
        >>> adv.flatten().tolist()
        [1.5, 1.0]
    """
    advantages = torch.empty_like(rewards)
    carry = torch.zeros_like(last_value)  # A_{t+1}
    next_value = last_value
    for t in reversed(range(rewards.shape[0])):
        keep = 1.0 - dones[t]  # 0 where the episode ended at t
        delta = rewards[t] + gamma * keep * next_value - values[t]
        carry = delta + gamma * lam * keep * carry
        advantages[t] = carry
        next_value = values[t]
    return advantages, advantages + values
