"""Checker spec for gae_cpp: the learner's C++ GAE over a (T, N) rollout (float32).

The reference is `hubkit.rl.gae_reference.gae_reference` in float64; the
outputs are advantages and returns. Timed against the reference (a Python
loop over time) and hubkit's own op (`hubkit.rl.gae`, backend cpp).
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.rl.gae import gae
from hubkit.rl.gae_reference import gae_reference

# (T, N): one step, one env, odd sizes, episodes ending often so resets are tested.
SHAPES = [(7, 3), (1, 1), (33, 5), (129, 17), (64, 70)]


def _case(ctx: CheckContext, t: int, n: int, gamma: float = 0.97, lam: float = 0.9) -> Case:
    dones = (torch.rand(t, n, generator=ctx.gen) < 0.15).float().to(ctx.device)
    inputs = {"rewards": randn(ctx, t, n), "values": randn(ctx, t, n), "dones": dones,
              "last_value": randn(ctx, n), "gamma": gamma, "lam": lam}
    # an advantage sums up to T discounted terms
    return Case(f"T={t} N={n} gamma={gamma} lam={lam}", inputs, reduction=t)


def cases(ctx: CheckContext) -> list[Case]:
    shapes = SHAPES[:3] if ctx.fast else SHAPES
    return [_case(ctx, *s) for s in shapes] + [_case(ctx, 9, 4, gamma=0.5, lam=1.0)]


def call(learner, ctx: CheckContext, rewards, values, dones, last_value, gamma, lam):
    """What hubkit's own op does before its kernel: contiguous inputs, fresh outputs."""
    rewards, values, dones, last_value = (x.contiguous() for x in
                                          (rewards, values, dones, last_value))
    t, n = rewards.shape
    advantages, returns = ctx.empty(t, n), ctx.empty(t, n)  # NaN-filled
    learner.gae(rewards.data_ptr(), values.data_ptr(), dones.data_ptr(), last_value.data_ptr(),
                advantages.data_ptr(), returns.data_ptr(), t, n, gamma, lam)
    return advantages, returns


def bench(ctx: CheckContext) -> Case:
    return _case(ctx, 2048, 64, gamma=0.99, lam=0.95)


SPEC = OpSpec(
    reference=gae_reference,
    cases=cases,
    call=call,
    shipped=lambda rewards, values, dones, last_value, gamma, lam: gae(
        rewards, values, dones, last_value, gamma, lam, backend="cpp"),
    forbidden=("hubkit::gae",),
    bench=bench,
    names={"reference": "hubkit.rl.gae_reference.gae_reference (a Python loop over time)",
           "shipped": "hubkit.rl.gae, cpp backend (hubkit's C++ sweep)"},
)
