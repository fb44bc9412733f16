"""Known wrong: perturbs the caller's x in place and leaves it at x - eps."""

import numpy as np

from hubkit.basics.reference import gradient_check, relative_error  # noqa: F401


def numerical_gradient(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f(x)
        x[i] = old - eps
        grad[i] = (up - f(x)) / (2 * eps)
    return grad
