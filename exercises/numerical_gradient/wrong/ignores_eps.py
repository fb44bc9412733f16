"""Known wrong: a fixed step instead of the eps argument."""

import numpy as np

from hubkit.basics.reference import gradient_check, relative_error  # noqa: F401


def numerical_gradient(f, x, eps=1e-6):
    h = 1e-6
    xw = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xw)
    for i in np.ndindex(xw.shape):
        old = xw[i]
        xw[i] = old + h
        up = f(xw)
        xw[i] = old - h
        grad[i] = (up - f(xw)) / (2 * h)
        xw[i] = old
    return grad
