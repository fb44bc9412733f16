"""Checker spec for numerical_gradient: central differences against torch.autograd.

The exact gradients come from torch.autograd in float64; the test functions,
points and shapes are drawn from the run's seed.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics.reference import numerical_gradient as reference_gradient
from hubkit.basics.reference import relative_error as reference_relative_error
from hubkit.check import CheckContext, CheckFailure, CustomSpec

FUNCTIONS = {  # sum(x^2) first: its error pattern names the usual mistakes
    "sum(x^2)": lambda t: (t ** 2).sum(),
    "sum(sin(x) * x^2)": lambda t: (torch.sin(t) * t ** 2).sum(),
    "sum(exp(0.3 x) * tanh(x))": lambda t: (torch.exp(0.3 * t) * torch.tanh(t)).sum(),
    "logsumexp(x)": lambda t: torch.logsumexp(t.reshape(-1), 0),
}


def _as_numpy_fn(fn):
    return lambda x: float(fn(torch.as_tensor(np.asarray(x, dtype=np.float64))))


def _exact(fn, x: np.ndarray) -> np.ndarray:
    t = torch.tensor(x, requires_grad=True)
    fn(t).backward()
    return t.grad.numpy()


def _numerical(learner, ctx, f, x, what, **kw) -> np.ndarray:
    before = x.copy()
    with ctx.guard():
        got = learner.numerical_gradient(f, x, **kw)
    if not np.array_equal(x, before):
        raise CheckFailure(f"{what}: your code modified its input `x` (it must hold its "
                           "original values when you return): restore each coordinate, or "
                           "perturb a copy")
    got = np.asarray(got)
    if got.shape != x.shape:
        raise CheckFailure(f"{what}: the gradient has shape {got.shape}, expected {x.shape} "
                           "(the shape of x)")
    return got.astype(np.float64)


def _diagnose(got: np.ndarray, exact: np.ndarray, name: str) -> str:
    """Recognize the usual finite-difference mistakes from the error's pattern."""
    diff = (got - exact).reshape(-1)
    if diff.size > 1 and np.allclose(got.reshape(-1), exact.sum(), rtol=1e-4):
        return ("every entry equals the sum of the true gradient: you moved all coordinates "
                "at once; perturb one coordinate at a time")
    if name == "sum(x^2)" and np.allclose(diff, diff[0], rtol=1e-3) and diff[0] > 1e-9:
        return (f"every entry is off by the same {diff[0]:.3g}: a forward difference "
                "(f(x + h) - f(x)) / h has an error proportional to h; use the central "
                "difference (f(x + h) - f(x - h)) / 2h, whose error shrinks like h^2")
    return "use the central difference (f(x + h e_i) - f(x - h e_i)) / 2h with a small h"


def _check_against_autograd(learner, ctx: CheckContext) -> None:
    shapes = [(3,), (2, 3)] if ctx.fast else [(1,), (4,), (2, 3), (2, 1, 3)]
    for name, fn in FUNCTIONS.items():
        for shape in shapes:
            x = torch.randn(shape, generator=ctx.gen, dtype=torch.float64).numpy()
            what = f"{name} at x of shape {shape}"
            got = _numerical(learner, ctx, _as_numpy_fn(fn), x, what)
            exact = _exact(fn, x)
            # subtle: scaled by the gradient's RMS too, so an entry near 0 is not held to
            # a relative error that even a perfect central difference cannot reach
            scale = float(np.sqrt(np.mean(exact ** 2)))
            err = float(np.max(np.abs(got - exact) / (np.abs(exact) + scale)))
            if not err <= 1e-6:
                raise CheckFailure(f"{what}: relative error {err:.3g} against the exact "
                                   f"gradient (must be <= 1e-6): {_diagnose(got, exact, name)}")


def _check_eps_is_used(learner, ctx: CheckContext) -> None:
    # subtle: on sum(x^3) the central difference is exactly 3x^2 + eps^2, so eps shows
    x = torch.randn(5, generator=ctx.gen, dtype=torch.float64).numpy()
    f = _as_numpy_fn(lambda t: (t ** 3).sum())
    got = _numerical(learner, ctx, f, x, "sum(x^3) with eps=1e-3", eps=1e-3)
    want = reference_gradient(f, x, eps=1e-3)
    if not np.allclose(got, want, rtol=0, atol=1e-9):
        raise CheckFailure(f"sum(x^3) with eps=1e-3: got {got}, expected {want} "
                           "(= 3 x^2 + eps^2): use the `eps` argument as the step h")


def _check_relative_error(learner, ctx: CheckContext) -> None:
    a = torch.randn(7, generator=ctx.gen, dtype=torch.float64).numpy()
    pairs = {"a, a": (a, a.copy()), "a, -a": (a, -a), "a, 1.01 a": (a, 1.01 * a),
             "zeros, zeros": (np.zeros(3), np.zeros(3)), "a, a + 1e-3": (a, a + 1e-3)}
    for name, (x, y) in pairs.items():
        with ctx.guard():
            got = float(learner.relative_error(x, y))
        want = reference_relative_error(x, y)
        if not abs(got - want) <= 1e-12 + 1e-9 * want:
            raise CheckFailure(f"relative_error({name}) returned {got:.6g}, expected "
                               f"{want:.6g}: max over entries of |a - b| / max(|a| + |b|, 1e-12)")


def _check_gradient_check(learner, ctx: CheckContext) -> None:
    # |x| in [0.5, 1.5]: every entry of this gradient is >= 0.4 there, so the elementwise
    # relative error of a correct gradient stays near 1e-10, far below tol
    u = torch.rand(4, generator=ctx.gen, dtype=torch.float64) + 0.5
    sign = torch.randint(0, 2, (4,), generator=ctx.gen) * 2 - 1
    x = (u * sign).numpy()
    f = _as_numpy_fn(lambda t: (torch.sin(t) * t ** 2).sum())
    right = lambda v: np.cos(v) * v ** 2 + 2 * v * np.sin(v)  # noqa: E731
    wrong = lambda v: np.cos(v) * v ** 2 + v * np.sin(v)  # noqa: E731  (a factor 2 lost)
    with ctx.guard():
        ok_right, err_right = learner.gradient_check(f, right, x)
        ok_wrong, err_wrong = learner.gradient_check(f, wrong, x)
    if not ok_right:
        raise CheckFailure(f"gradient_check rejected a correct gradient (error {err_right:.3g})")
    if ok_wrong:
        raise CheckFailure(f"gradient_check accepted a wrong gradient (error {err_wrong:.3g}): "
                           "passed must be error <= tol")


def check(learner, ctx: CheckContext) -> None:
    _check_against_autograd(learner, ctx)
    _check_eps_is_used(learner, ctx)
    _check_relative_error(learner, ctx)
    _check_gradient_check(learner, ctx)
    ctx.note("numerical gradients agree with torch.autograd to relative error <= 1e-6")


SPEC = CustomSpec(check=check)
