"""Gradients by hand: gradient descent, a step-size study and the numerical gradient check.

Gradient descent walks downhill: x <- x - lr * grad f(x). The gradient points
where f rises fastest, so its negative is the steepest way down; lr decides how
far to trust that local slope. Too small crawls, too large overshoots and, past
2 / (largest curvature) on a quadratic, diverges.

The numerical gradient check compares an analytic gradient with central
differences, (f(x + h e_i) - f(x - h e_i)) / 2h, whose error shrinks like h^2
(a forward difference only like h). Agreement is judged by relative error
|a - n| / max(|a| + |n|, tiny): below about 1e-7 in float64 the analytic gradient
is right; above 1e-3 it is almost surely wrong.

Shapes: x is any shape (N,) or (...); f maps it to a Python/NumPy scalar.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

ScalarFn = Callable[[np.ndarray], float]
GradFn = Callable[[np.ndarray], np.ndarray]


@dataclass
class DescentResult:
    """What one run of gradient descent did.

    Attributes:
        x: the last iterate, same shape as x0.
        path: (steps + 1, *x0.shape) every iterate, starting with x0.
        values: (steps + 1,) f at each iterate.
        diverged: True when a value became NaN/Inf or grew past 1e12 (the run stopped there).
    """

    x: np.ndarray
    path: np.ndarray
    values: np.ndarray
    diverged: bool = False


def gradient_descent(f: ScalarFn, grad: GradFn, x0: np.ndarray, lr: float,
                     steps: int) -> DescentResult:
    """Minimize f from x0 with fixed-step gradient descent, x <- x - lr * grad(x).

    Args:
        f: the function, array -> scalar.
        grad: its gradient, array -> array of the same shape.
        x0: starting point (not modified).
        lr: step size (> 0).
        steps: number of updates (>= 0).

    Returns:
        A DescentResult with the path and the values along it.

    Example:
        >>> import numpy as np
        >>> r = gradient_descent(lambda x: float(x @ x), lambda x: 2 * x,
        ...                      np.array([3.0, -4.0]), lr=0.25, steps=20)
        >>> bool(np.allclose(r.x, 0.0, atol=1e-5)), r.path.shape
        (True, (21, 2))
    """
    if not lr > 0:
        raise ValueError(f"lr: expected a positive step size, got {lr!r}")
    if steps < 0:
        raise ValueError(f"steps: expected >= 0, got {steps!r}")
    x = np.array(x0, dtype=np.float64)  # a copy: x0 stays as it was
    path, values = [x.copy()], [float(f(x))]
    for _ in range(steps):
        x = x - lr * np.asarray(grad(x), dtype=np.float64)
        path.append(x.copy())
        values.append(float(f(x)))
        if not math.isfinite(values[-1]) or abs(values[-1]) > 1e12:
            return DescentResult(x, np.stack(path), np.array(values), diverged=True)
    return DescentResult(x, np.stack(path), np.array(values))


@dataclass
class StepSizeStudy:
    """Gradient descent from one start with several step sizes, side by side.

    Attributes:
        lrs: the step sizes tried, in order.
        results: one DescentResult per step size.
    """

    lrs: list[float]
    results: list[DescentResult] = field(default_factory=list)

    def final_values(self) -> list[float]:
        """f at the last iterate of each run (inf for a run that diverged)."""
        return [math.inf if r.diverged else float(r.values[-1]) for r in self.results]

    def best_lr(self) -> float:
        """The step size whose run ended lowest."""
        finals = self.final_values()
        return self.lrs[int(np.argmin(finals))]


def step_size_study(f: ScalarFn, grad: GradFn, x0: np.ndarray, lrs: Sequence[float],
                    steps: int) -> StepSizeStudy:
    """Run gradient_descent once per step size and collect the runs.

    Example:
        >>> import numpy as np
        >>> f = lambda x: float(x @ x); g = lambda x: 2 * x
        >>> s = step_size_study(f, g, np.ones(2), [0.01, 0.4, 1.1], steps=30)
        >>> s.best_lr(), bool(s.results[2].values[-1] > s.results[2].values[0])
        (0.4, True)
    """
    return StepSizeStudy(list(lrs), [gradient_descent(f, grad, x0, lr, steps) for lr in lrs])


def numerical_gradient(f: ScalarFn, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference estimate of grad f at x, one coordinate at a time.

    Args:
        f: array -> scalar.
        x: float array of any shape; it is restored before returning.
        eps: the half-step h (> 0); ~1e-6 balances truncation (h^2) and rounding (1e-16/h).

    Returns:
        float64 array shaped like x.

    Example:
        >>> import numpy as np
        >>> numerical_gradient(lambda v: float((v ** 3).sum()), np.array([1.0, 2.0])).round(6)
        array([ 3., 12.])
    """
    if not eps > 0:
        raise ValueError(f"eps: expected a positive step, got {eps!r}")
    xw = np.array(x, dtype=np.float64)  # subtle: work on a float64 copy, never on the caller's x
    g = np.zeros_like(xw)
    flat, gflat = xw.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        orig = flat[i]
        flat[i] = orig + eps
        up = float(f(xw))
        flat[i] = orig - eps
        down = float(f(xw))
        flat[i] = orig
        gflat[i] = (up - down) / (2 * eps)
    return g


def relative_error(a: np.ndarray, b: np.ndarray, tiny: float = 1e-12) -> float:
    """max over entries of |a - b| / max(|a| + |b|, tiny): 0 when equal, 1 when opposite.

    Example:
        >>> import numpy as np
        >>> relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
        0.0
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"b: expected shape {a.shape} to match a, got {b.shape}")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny), initial=0.0))


def gradient_check(f: ScalarFn, grad: GradFn, x: np.ndarray, eps: float = 1e-6,
                   tol: float = 1e-6) -> tuple[bool, float]:
    """Compare grad(x) with the numerical gradient; return (passed, relative error).

    Example:
        >>> import numpy as np
        >>> ok, err = gradient_check(lambda v: float(np.sin(v).sum()), np.cos, np.array([0.3, 1.2]))
        >>> ok, err < 1e-8
        (True, True)
    """
    err = relative_error(grad(np.array(x, dtype=np.float64)), numerical_gradient(f, x, eps))
    return err <= tol, err
