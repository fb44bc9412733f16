"""Checker spec for chain_rule: hand-written derivatives against torch.autograd (float64).

Points, shapes and upstream gradients are drawn from the run's seed.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec


def _close(got, want: torch.Tensor, what: str, hint: str) -> None:
    want = want.detach().numpy()
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        raise CheckFailure(f"{what}: shape {got.shape}, expected {want.shape}: {hint}")
    err = float(np.max(np.abs(got - want), initial=0.0))
    if not err <= 1e-9 * (1 + float(np.abs(want).max(initial=0.0))):
        raise CheckFailure(f"{what}: max error {err:.3g} against autograd: {hint}")


def _randn(ctx, *shape) -> torch.Tensor:
    return torch.randn(*shape, generator=ctx.gen, dtype=torch.float64)


def _check_partials(learner, ctx) -> None:
    for _ in range(3):
        x, y = (_randn(ctx, ()).requires_grad_() for _ in range(2))
        (x ** 2 * y + torch.sin(x * y)).backward()
        with ctx.guard():
            dx, dy = learner.partials(float(x), float(y))
        _close(dx, x.grad, f"df/dx at ({float(x):.3f}, {float(y):.3f})",
               "treat y as a constant; sin(x y) needs the chain rule: y cos(x y)")
        _close(dy, y.grad, f"df/dy at ({float(x):.3f}, {float(y):.3f})",
               "treat x as a constant: x^2 + x cos(x y)")


def _check_linear(learner, ctx) -> None:
    for n, d, m in ((5, 3, 4), (1, 7, 2)) if ctx.fast else ((5, 3, 4), (1, 7, 2), (9, 1, 6)):
        x, w, b = (_randn(ctx, *s).requires_grad_() for s in ((n, d), (d, m), (m,)))
        dy = _randn(ctx, n, m)
        (x @ w + b).backward(dy)
        with ctx.guard():
            gx, gw, gb = learner.linear_backward(x.detach().numpy(), w.detach().numpy(),
                                                 b.detach().numpy(), dy.numpy())
        what = f"linear_backward x({n}, {d}) w({d}, {m})"
        _close(gx, x.grad, f"{what}: dx", "dx = dy @ w.T")
        _close(gw, w.grad, f"{what}: dw", "dw = x.T @ dy, shaped like w")
        _close(gb, b.grad, f"{what}: db", "b is added to every row: sum dy over the rows")


def _check_tanh_mse(learner, ctx) -> None:
    for shape in ((6,), (3, 4)):
        z = _randn(ctx, *shape).requires_grad_()
        t = _randn(ctx, *shape)
        ((torch.tanh(z) - t) ** 2).mean().backward()
        with ctx.guard():
            got = learner.tanh_mse_backward(z.detach().numpy(), t.numpy())
        _close(got, z.grad, f"tanh_mse_backward on shape {shape}",
               "chain three links: the mean (1/N), the square (2 (p - t)) and tanh "
               "(1 - tanh(z)^2)")


def check(learner, ctx: CheckContext) -> None:
    _check_partials(learner, ctx)
    _check_linear(learner, ctx)
    _check_tanh_mse(learner, ctx)
    ctx.note("every hand-written derivative matches torch.autograd to 1e-9")


SPEC = CustomSpec(check=check)
