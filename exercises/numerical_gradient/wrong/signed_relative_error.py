"""Known wrong: relative_error without absolute values, (a - b) / (a + b)."""

import numpy as np

from hubkit.basics.reference import numerical_gradient


def relative_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max((a - b) / np.maximum(a + b, 1e-12), initial=0.0))


def gradient_check(f, grad, x, eps=1e-6, tol=1e-6):
    err = relative_error(grad(x), numerical_gradient(f, x, eps))
    return err <= tol, err
