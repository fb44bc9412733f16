"""Partial derivatives and the chain rule by hand (exercise chain_rule).

Shapes: x (N, D), w (D, M), b (M,), dy (N, M); z and t any shape (the same).
"""

import numpy as np


def partials(x, y):
    """(df/dx, df/dy) of f(x, y) = x^2 y + sin(x y) at the point (x, y) (floats)."""
    # BEGIN SOLUTION
    return 2 * x * y + y * np.cos(x * y), x ** 2 + x * np.cos(x * y)
    # END SOLUTION


def linear_backward(x, w, b, dy):
    """Gradients (dx, dw, db) of a loss through y = x @ w + b, given dy = dloss/dy."""
    # BEGIN SOLUTION
    return dy @ w.T, x.T @ dy, dy.sum(axis=0)
    # END SOLUTION


def tanh_mse_backward(z, t):
    """dL/dz for L = mean((tanh(z) - t)^2), the mean over every element."""
    # BEGIN SOLUTION
    p = np.tanh(z)
    return 2 * (p - t) / z.size * (1 - p ** 2)
    # END SOLUTION
