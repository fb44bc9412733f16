"""Gradient descent from nothing, and a step-size comparison (exercise gradient_descent).

Shapes: x0 is (D,); a path is (steps + 1, D), its first row x0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np


def gradient_descent(grad: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, lr: float,
                     steps: int) -> np.ndarray:
    """Take `steps` steps of x <- x - lr * grad(x) from x0.

    Args:
        grad: gradient of the function to minimize, (D,) -> (D,).
        x0: (D,) float64 starting point; leave it unchanged.
        lr: the step size.
        steps: how many updates.

    Returns:
        (steps + 1, D) float64 array: x0, then the point after each step.
    """
    # BEGIN SOLUTION
    x = np.array(x0, dtype=np.float64)  # a copy, so x0 is never touched
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x.copy())
    return np.stack(path)
    # END SOLUTION


def best_step_size(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                   x0: np.ndarray, lrs: Sequence[float], steps: int) -> float:
    """The step size in `lrs` whose run of gradient_descent ends with the lowest f.

    A run that blows up (f becomes NaN or infinite) counts as worst.

    Args:
        f: the function, (D,) -> float.
        grad: its gradient.
        x0: (D,) starting point shared by every run.
        lrs: step sizes to compare.
        steps: updates per run.

    Returns:
        One element of `lrs`.
    """
    # BEGIN SOLUTION
    best, best_value = lrs[0], math.inf
    for lr in lrs:
        with np.errstate(over="ignore", invalid="ignore"):
            value = float(f(gradient_descent(grad, x0, lr, steps)[-1]))
        if math.isfinite(value) and value < best_value:
            best, best_value = lr, value
    return best
    # END SOLUTION
