"""Known wrong: a forward difference with a huge step, (f(x + h) - f(x)) / h, h = 1e-2."""

import numpy as np

from hubkit.basics.reference import gradient_check, relative_error  # noqa: F401


def numerical_gradient(f, x, eps=1e-6):
    h = 1e-2
    xw = np.array(x, dtype=np.float64)
    grad = np.zeros_like(xw)
    base = f(xw)
    for i in np.ndindex(xw.shape):
        old = xw[i]
        xw[i] = old + h
        grad[i] = (f(xw) - base) / h
        xw[i] = old
    return grad
