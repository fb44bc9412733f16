"""Learning-rate schedules as plain functions of the step number.

Each function returns the learning rate to use for step `t` (0-based: the value
an optimizer holds after `t` calls of a torch scheduler's step()). They match
torch.optim.lr_scheduler:

- step_lr:           StepLR            base * gamma ** (t // step_size)
- cosine_annealing:  CosineAnnealingLR eta_min + (base - eta_min) * (1 + cos(pi t / T)) / 2
                     (Loshchilov & Hutter, SGDR, https://arxiv.org/abs/1608.03983)
- linear_warmup:     LinearLR          base * (start + (1 - start) * min(t, W) / W)
- warmup_cosine:     SequentialLR([LinearLR, CosineAnnealingLR], milestones=[W]):
                     a linear ramp for W steps, then a cosine decay over the remaining steps.
"""

from __future__ import annotations

import math


def _check_step(t: int) -> None:
    if t < 0:
        raise ValueError(f"t: expected a step number >= 0, got {t!r}")


def step_lr(t: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Multiply the rate by gamma every step_size steps.

    Example:
        >>> [step_lr(t, 1.0, step_size=2, gamma=0.5) for t in range(5)]
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    _check_step(t)
    if step_size <= 0:
        raise ValueError(f"step_size: expected > 0, got {step_size!r}")
    return base_lr * gamma ** (t // step_size)


def cosine_annealing(t: int, base_lr: float, t_max: int, eta_min: float = 0.0) -> float:
    """Half a cosine from base_lr (t = 0) down to eta_min (t = t_max).

    Example:
        >>> [round(cosine_annealing(t, 1.0, t_max=4), 4) for t in range(5)]
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    _check_step(t)
    if t_max <= 0:
        raise ValueError(f"t_max: expected > 0, got {t_max!r}")
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t / t_max)) / 2


def linear_warmup(t: int, base_lr: float, warmup_steps: int,
                  start_factor: float = 1.0 / 3) -> float:
    """Ramp linearly from start_factor * base_lr to base_lr over warmup_steps, then hold.

    Example:
        >>> [linear_warmup(t, 1.0, warmup_steps=2, start_factor=0.5) for t in range(4)]
        [0.5, 0.75, 1.0, 1.0]
    """
    _check_step(t)
    if warmup_steps <= 0:
        raise ValueError(f"warmup_steps: expected > 0, got {warmup_steps!r}")
    frac = min(t, warmup_steps) / warmup_steps
    return base_lr * (start_factor + (1 - start_factor) * frac)


def warmup_cosine(t: int, base_lr: float, warmup_steps: int, total_steps: int,
                  start_factor: float = 1.0 / 3, eta_min: float = 0.0) -> float:
    """Linear warmup for warmup_steps, then cosine annealing to eta_min at total_steps.

    Example:
        >>> [round(warmup_cosine(t, 1.0, 2, 6, start_factor=0.5), 3) for t in range(7)]
        [0.5, 0.75, 1.0, 0.854, 0.5, 0.146, 0.0]
    """
    if not 0 < warmup_steps < total_steps:
        raise ValueError(f"warmup_steps: expected 0 < warmup_steps < total_steps "
                         f"({total_steps}), got {warmup_steps!r}")
    if t < warmup_steps:
        return linear_warmup(t, base_lr, warmup_steps, start_factor)
    # subtle: the cosine restarts its own clock at the milestone, with T = total - warmup
    return cosine_annealing(t - warmup_steps, base_lr, total_steps - warmup_steps, eta_min)
