"""Checker spec for reinforce_python: the REINFORCE loss of a rollout, value and gradient.

The reference is built from hubkit's pieces in float64: the discounted reward to
go from `hubkit.rl.gae_reference.gae_reference` (values 0, lambda 1), the
log-prob of the action taken from the logits, and `hubkit.rl.reinforce.reinforce_loss`.
The gradient with respect to the logits is checked too.
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.rl.gae_reference import gae_reference
from hubkit.rl.reinforce import reinforce_loss

SHAPES = [(7, 3, 2), (1, 1, 2), (33, 5, 4), (129, 8, 3)]  # (T, N, A)


def reference(logits, actions, rewards, dones, baseline, gamma):
    zeros = torch.zeros_like(rewards)
    returns, _ = gae_reference(rewards, zeros, dones, zeros[0], gamma, 1.0)
    log_probs = torch.log_softmax(logits, -1).gather(-1, actions[..., None]).squeeze(-1)
    return reinforce_loss(log_probs, returns, baseline)


def _case(ctx: CheckContext, t: int, n: int, a: int, gamma: float = 0.9) -> Case:
    def draw(*shape):
        return torch.rand(*shape, generator=ctx.gen).to(ctx.device)

    inputs = {"logits": randn(ctx, t, n, a, layout="strided"),
              "actions": torch.randint(a, (t, n), generator=ctx.gen).to(ctx.device),
              "rewards": randn(ctx, t, n), "dones": (draw(t, n) < 0.2).float(),
              "baseline": randn(ctx, t, n), "gamma": gamma}
    return Case(f"T={t} N={n} A={a} gamma={gamma}", inputs, reduction=t * n)


def cases(ctx: CheckContext) -> list[Case]:
    shapes = SHAPES[:3] if ctx.fast else SHAPES
    return [_case(ctx, *s) for s in shapes] + [_case(ctx, 9, 2, 3, gamma=0.5)]


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    grads=("logits",),
    forbidden=("hubkit::gae",),
    names={"reference": "hubkit.rl.reinforce.reinforce_loss on hubkit's reward-to-go"},
)
