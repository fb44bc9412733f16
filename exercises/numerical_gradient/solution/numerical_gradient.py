"""Checking gradients with finite differences (exercise numerical_gradient).

Shapes: x is any shape (...); f maps it to a float; a gradient is shaped like x.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray,
                       eps: float = 1e-6) -> np.ndarray:
    """Estimate grad f(x) with central differences, one coordinate at a time.

    d f / d x_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), e_i the i-th unit vector.

    Args:
        f: scalar function of an array.
        x: float64 array, any shape; it must hold its original values afterwards.
        eps: the half-width h of the difference.

    Returns:
        float64 array shaped like x.
    """
    # BEGIN SOLUTION
    xw = np.array(x, dtype=np.float64)  # work on a copy
    grad = np.zeros_like(xw)
    flat, gflat = xw.reshape(-1), grad.reshape(-1)  # views into xw and grad
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f(xw)
        flat[i] = old - eps
        down = f(xw)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad
    # END SOLUTION


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """The largest elementwise |a - b| / max(|a| + |b|, 1e-12); 0.0 for empty arrays.

    Args:
        a, b: arrays of the same shape.

    Returns:
        A float in [0, 1]: 0 when equal, 1 when one is zero or they have opposite signs.
    """
    # BEGIN SOLUTION
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    err = np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-12)
    return float(err.max(initial=0.0))
    # END SOLUTION


def gradient_check(f: Callable[[np.ndarray], float], grad: Callable[[np.ndarray], np.ndarray],
                   x: np.ndarray, eps: float = 1e-6, tol: float = 1e-6) -> tuple[bool, float]:
    """Compare an analytic gradient with the numerical one.

    Args:
        f: scalar function.
        grad: its claimed gradient, array -> array shaped like x.
        x: the point to check at.
        eps: finite-difference half-width.
        tol: largest relative error that still passes.

    Returns:
        (passed, relative error between grad(x) and numerical_gradient(f, x, eps)).
    """
    # BEGIN SOLUTION
    err = relative_error(grad(np.array(x, dtype=np.float64)), numerical_gradient(f, x, eps))
    return err <= tol, err
    # END SOLUTION
