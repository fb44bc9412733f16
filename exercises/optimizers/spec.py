"""Checker spec for optimizers: SGD, Momentum, Adam and AdamW against torch.optim.

First a few one-line probes whose exact answers teach (the first Adam step, a
constant gradient under momentum, AdamW on a zero gradient); then each
optimizer runs beside torch.optim for many steps in float64, each side fed
the gradient at its own parameters plus shared noise, and must agree after
every step. Hyper-parameters and data are drawn from the run's seed.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec

SHAPES = [(3, 4), (5,), (1,)]


def _u(ctx: CheckContext, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=ctx.gen, dtype=torch.float64))


def _randn(ctx: CheckContext, *shape: int) -> np.ndarray:
    return torch.randn(shape, generator=ctx.gen, dtype=torch.float64).numpy()


def _configs(ctx: CheckContext) -> list[tuple[str, dict]]:
    lr, mu = _u(ctx, 0.002, 0.02), _u(ctx, 0.5, 0.95)
    b1, b2, wd = _u(ctx, 0.7, 0.95), _u(ctx, 0.9, 0.999), _u(ctx, 0.01, 0.3)
    return [
        ("SGD", dict(lr=lr)),
        ("SGD", dict(lr=lr, weight_decay=wd)),
        ("Momentum", dict(lr=lr, momentum=mu)),
        ("Momentum", dict(lr=lr, momentum=mu, dampening=0.3, weight_decay=wd)),
        ("Momentum", dict(lr=lr, momentum=mu, nesterov=True, weight_decay=wd)),
        ("Adam", dict(lr=lr, betas=(b1, b2), eps=1e-6)),
        ("Adam", dict(lr=lr, betas=(b1, b2), eps=1e-8, weight_decay=wd)),
        ("AdamW", dict(lr=lr, betas=(b1, b2), eps=1e-8, weight_decay=wd)),
    ]


def _torch_optimizer(name: str, params, kw: dict):
    if name in ("SGD", "Momentum"):
        return torch.optim.SGD(params, **kw)
    return getattr(torch.optim, name)(params, **kw)


def _make(learner, name: str, params, kw: dict):
    cls = getattr(learner, name, None)
    if cls is None:
        raise CheckFailure(f"your code defines no `{name}` class: keep the starter's names")
    return cls(params, **kw)


def _grads(params, targets, noise) -> list[np.ndarray]:
    """Gradient of sum((p - y)^4 + sin(3p)) by torch, plus the shared noise."""
    leaves = [torch.tensor(p, requires_grad=True) for p in params]
    sum(((t - torch.from_numpy(y)) ** 4 + torch.sin(3 * t)).sum()
        for t, y in zip(leaves, targets, strict=True)).backward()
    return [t.grad.numpy() + n for t, n in zip(leaves, noise, strict=True)]


def _fmt(v) -> str:
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(x) for x in v) + ")"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _label(name: str, kw: dict) -> str:
    return f"{name}(" + ", ".join(f"{k}={_fmt(v)}" for k, v in kw.items()) + ")"


def _run_against_torch(learner, ctx: CheckContext, name: str, kw: dict, steps: int) -> None:
    init, targets = [_randn(ctx, *s) for s in SHAPES], [_randn(ctx, *s) for s in SHAPES]
    ours = [p.copy() for p in init]
    theirs = [torch.tensor(p, requires_grad=True) for p in init]
    with ctx.guard():
        opt = _make(learner, name, ours, kw)
    topt = _torch_optimizer(name, theirs, kw)
    for step in range(1, steps + 1):
        noise = [0.5 * _randn(ctx, *s) for s in SHAPES]
        with ctx.guard():
            opt.step(_grads(ours, targets, noise))
        for t, g in zip(theirs, _grads([t.detach().numpy() for t in theirs], targets, noise),
                        strict=True):
            t.grad = torch.from_numpy(g)
        topt.step()
        _same_after(step, name, kw, ours, [t.detach().numpy() for t in theirs], init)


def _same_after(step, name, kw, ours, theirs, init) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if np.array_equal(a, init[i]) and not np.array_equal(b, init[i]):
            raise CheckFailure(f"{_label(name, kw)}: parameter {i} did not change after step "
                               f"{step}: update the arrays in place (p -= ...), the caller "
                               "holds them; `p = p - ...` only rebinds a local name")
        err = np.abs(a - b)
        bad = err > 1e-10 * (np.abs(b) + 1e-3)
        if bad.any():
            k = tuple(int(j) for j in np.argwhere(bad)[0])
            raise CheckFailure(f"{_label(name, kw)}: parameters differ from torch.optim after "
                               f"step {step}: parameter {i} at {k} is {a[k]:.10g}, torch has "
                               f"{b[k]:.10g} (max abs error {err.max():.3g})")


def _probe_momentum(learner, ctx: CheckContext) -> None:
    lr, mu = 0.1, 0.5
    p = np.zeros(1)
    with ctx.guard():
        opt = _make(learner, "Momentum", [p], dict(lr=lr, momentum=mu))
        moved = []
        for _ in range(3):
            before = p.copy()
            opt.step([np.ones(1)])
            moved.append(float(before[0] - p[0]))
    want = [lr * 1.0, lr * (1 + mu), lr * (1 + mu + mu * mu)]
    if not np.allclose(moved, want, rtol=1e-12, atol=0):
        raise CheckFailure(f"Momentum(lr={lr}, momentum={mu}) with a constant gradient 1: the "
                           f"three steps moved {moved}, expected {want}: the buffer starts at g "
                           "and each step decays it once, buf = momentum * buf + g")


def _probe_adam_first_step(learner, ctx: CheckContext) -> None:
    lr, b1, b2 = 0.01, 0.9, 0.999
    # |g| >= 0.5, so eps (1e-12) cannot blur the expected |step| = lr
    g = np.sign(_randn(ctx, 6)) * (0.5 + np.abs(_randn(ctx, 6)))
    p = np.zeros(6)
    with ctx.guard():
        _make(learner, "Adam", [p], dict(lr=lr, betas=(b1, b2), eps=1e-12)).step([g])
    want = -lr * np.sign(g)  # bias-corrected m / sqrt(v) is g / |g| on step 1
    if not np.allclose(p, want, rtol=1e-8, atol=0):
        raise CheckFailure(f"Adam(lr={lr}) first step moved the parameters by {p.round(6)}, "
                           f"expected {want} (about lr against the sign of g): the bias "
                           "correction divides m by 1 - beta1^t and v by 1 - beta2^t, t "
                           "counting steps from 1")


def _probe_adamw_zero_grad(learner, ctx: CheckContext) -> None:
    lr, wd = 0.1, 0.5
    p = _randn(ctx, 5)
    want = p * (1 - lr * wd)
    with ctx.guard():
        _make(learner, "AdamW", [p], dict(lr=lr, weight_decay=wd)).step([np.zeros(5)])
    if not np.allclose(p, want, rtol=1e-12, atol=0):
        raise CheckFailure(f"AdamW(lr={lr}, weight_decay={wd}) on a zero gradient moved the "
                           f"weights to {p.round(6)}, expected {want.round(6)} = p * (1 - lr * "
                           "weight_decay): AdamW's decay is decoupled, applied to the weights "
                           "directly and never added to the gradient (that is Adam's L2)")


def check(learner, ctx: CheckContext) -> None:
    _probe_momentum(learner, ctx)
    _probe_adam_first_step(learner, ctx)
    _probe_adamw_zero_grad(learner, ctx)
    steps = 40 if ctx.fast else 150
    for name, kw in _configs(ctx):
        _run_against_torch(learner, ctx, name, kw, steps)
    ctx.note(f"SGD, Momentum (+Nesterov), Adam and AdamW match torch.optim for {steps} steps")


SPEC = CustomSpec(check=check)
