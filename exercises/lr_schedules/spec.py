"""Checker spec for lr_schedules: every step's rate against torch.optim.lr_scheduler.

The oracle is torch itself: SequentialLR([LinearLR, CosineAnnealingLR]) on a
dummy optimizer, stepped once per step. Lengths and rates come from the run's seed.
"""

from __future__ import annotations

import math

import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec


def _torch_rates(base_lr, warmup, total, start_factor, eta_min) -> list[float]:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, start_factor, 1.0, total_iters=warmup),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=eta_min),
    ], milestones=[warmup])
    rates = []
    for _ in range(total + 1):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return rates


def _close(a: float, b: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= 1e-9 * max(abs(b), 1e-6)


def check(learner, ctx: CheckContext) -> None:
    for _ in range(2 if ctx.fast else 4):
        warmup = int(torch.randint(2, 8, (1,), generator=ctx.gen))
        total = warmup + int(torch.randint(5, 30, (1,), generator=ctx.gen))
        base = float(torch.rand((), generator=ctx.gen)) + 0.05
        start = 0.1 + 0.5 * float(torch.rand((), generator=ctx.gen))
        eta_min = 0.01 * base
        want = _torch_rates(base, warmup, total, start, eta_min)
        with ctx.guard():
            got = ctx.batch([(learner.warmup_cosine, (t, base, warmup, total, start, eta_min))
                             for t in range(total + 1)])
        for t, (g, w) in enumerate(zip(got, want, strict=True)):
            if not _close(float(g), w):
                phase = "during the warm-up" if t < warmup else "after the warm-up"
                extra = (": start_factor + (1 - start_factor) * t / warmup_steps, times base_lr"
                         if t < warmup else ": eta_min + (base_lr - eta_min) * (1 + cos(pi s / S)) "
                         "/ 2 with s = t - warmup_steps, S = total_steps - warmup_steps")
                raise CheckFailure(f"step {t} {phase} ({warmup} warm-up steps of {total}): lr "
                                   f"{float(g):.6g}, torch gives {w:.6g}{extra}")
    ctx.note("every step's learning rate matches torch's SequentialLR")


SPEC = CustomSpec(check=check)
