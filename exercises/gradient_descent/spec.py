"""Checker spec for gradient_descent: paths against the reference, step-size choice.

Every problem is drawn from the run's seed: a random convex quadratic
f(x) = 0.5 x^T A x - b^T x (A symmetric positive definite, so its largest
eigenvalue L fixes the stable step sizes lr < 2 / L), and the non-convex
Rosenbrock function from a random start.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics.reference import gradient_descent as reference_descent
from hubkit.basics.reference import step_size_study
from hubkit.check import CheckContext, CheckFailure, CustomSpec, assert_close


def _quadratic(ctx: CheckContext, dim: int):
    q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=ctx.gen, dtype=torch.float64))
    eig = torch.linspace(0.5, 4.0, dim, dtype=torch.float64)
    a = (q * eig) @ q.T
    b = torch.randn(dim, generator=ctx.gen, dtype=torch.float64)
    a_np, b_np = a.numpy(), b.numpy()

    def f(x):
        return float(0.5 * x @ a_np @ x - b_np @ x)

    def grad(x):
        return a_np @ x - b_np
    return f, grad, float(eig.max())


def _rosenbrock():
    def f(x):
        return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)

    def grad(x):
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                         200 * (x[1] - x[0] ** 2)])
    return f, grad


def _start(ctx: CheckContext, dim: int) -> np.ndarray:
    return torch.randn(dim, generator=ctx.gen, dtype=torch.float64).numpy()


def _check_path(learner, ctx, f, grad, x0, lr, steps, what):
    want = reference_descent(f, grad, x0, lr, steps).path
    x0_before = x0.copy()
    with ctx.guard():
        got = learner.gradient_descent(grad, x0, lr, steps)
    if not np.array_equal(x0, x0_before):
        raise CheckFailure(f"{what}: your code modified its input `x0`: copy it before updating")
    got = np.asarray(got)
    if got.shape != want.shape:
        raise CheckFailure(f"{what}: the path has shape {got.shape}, expected {want.shape}: "
                           f"one row for x0, then one row after each of the {steps} steps")
    if f(got[1]) > f(got[0]) and f(want[1]) < f(want[0]):
        raise CheckFailure(f"{what}: the first step goes uphill (f {f(got[0]):.4g} -> "
                           f"{f(got[1]):.4g}): step against the gradient, x - lr * grad(x)")
    _first_divergence(got, want, what)
    assert_close(torch.from_numpy(got.astype(np.float64)), torch.from_numpy(want),
                 name=f"{what}: path (step, coordinate)", dtype=torch.float64)


def _first_divergence(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Name the first step where the path leaves the reference's."""
    scale = float(np.sqrt(np.mean(want ** 2)))
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(got - want) <= 1e-10 * (np.abs(want) + scale)).all(axis=1)
    if not bad.any():
        return
    k = int(np.argmax(bad))
    why = ("x0 itself is wrong: the first row must be x0 unchanged" if k == 0 else
           "the step formula is off: x1 = x0 - lr * grad(x0)" if k == 1 else
           "the first step is right, later ones are not: evaluate grad at the current x "
           "on every step")
    raise CheckFailure(f"{what}: the path first differs from the reference at step {k} "
                       f"(got {got[k]}, expected {want[k]}): {why}")


def check(learner, ctx: CheckContext) -> None:
    for dim in (2, 5) if ctx.fast else (1, 2, 5, 9):
        f, grad, top = _quadratic(ctx, dim)
        lr = float(0.3 + 1.4 * torch.rand((), generator=ctx.gen)) / top  # stable: lr < 2 / L
        _check_path(learner, ctx, f, grad, _start(ctx, dim), lr, 25,
                    f"quadratic in {dim} dims, lr {lr:.3g}")
    f, grad = _rosenbrock()
    x0 = _start(ctx, 2) * 0.5
    _check_path(learner, ctx, f, grad, x0, 1e-3, 60, "Rosenbrock, lr 0.001")
    _check_best_step(learner, ctx)
    ctx.note("paths match the reference to float64 precision; step-size choice agrees")


def _check_best_step(learner, ctx: CheckContext) -> None:
    f, grad, top = _quadratic(ctx, 4)
    # tiny, good, just unstable (oscillates outwards), overflowing to inf and NaN
    lrs = [0.02 / top, 1.0 / top, 2.2 / top, 1e12 / top]
    x0 = _start(ctx, 4)
    with np.errstate(over="ignore", invalid="ignore"):
        want = step_size_study(f, grad, x0, lrs, 30).best_lr()
    with ctx.guard(), np.errstate(over="ignore", invalid="ignore"):
        got = learner.best_step_size(f, grad, x0, lrs, 30)
    if got != want:
        raise CheckFailure(f"best_step_size returned {got!r}, expected {want!r} (from {lrs}): "
                           "compare f at the end of each run, and treat a run whose f is NaN "
                           "or infinite as the worst")


SPEC = CustomSpec(check=check)
