"""Checker spec for ppo_loss: the PPO loss of a minibatch, value and gradients.

The reference is `hubkit.rl.ppo.ppo_loss` (clip_vloss on) in float64. Cases put
many ratios and value changes outside the clip range on both sides, and mix
positive and negative advantages, so each clip shows up in the value and in the
gradients of log_probs, values and entropy.
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.rl.ppo import ppo_loss

SIZES = [5, 1, 64, 257]


def _case(ctx: CheckContext, b: int, clip: float = 0.2) -> Case:
    def normal(scale: float) -> torch.Tensor:
        return scale * torch.randn(b, generator=ctx.gen, dtype=torch.float64).float()

    old = -1.0 - normal(1.0).abs()
    old_values = randn(ctx, b)
    inputs = {"log_probs": old + normal(0.4), "old_log_probs": old, "advantages": randn(ctx, b),
              "values": old_values + normal(0.6), "old_values": old_values,
              "returns": randn(ctx, b), "entropy": normal(1.0).abs(),
              "clip_coef": clip, "vf_coef": 0.5, "ent_coef": 0.01}
    return Case(f"B={b} clip={clip}", {k: v.to(ctx.device) if torch.is_tensor(v) else v
                                       for k, v in inputs.items()}, reduction=b)


def cases(ctx: CheckContext) -> list[Case]:
    sizes = SIZES[:3] if ctx.fast else SIZES
    return [_case(ctx, b) for b in sizes] + [_case(ctx, 33, clip=0.1)]


SPEC = OpSpec(
    reference=ppo_loss,
    cases=cases,
    grads=("log_probs", "values", "entropy"),
    names={"reference": "hubkit.rl.ppo.ppo_loss"},
)
