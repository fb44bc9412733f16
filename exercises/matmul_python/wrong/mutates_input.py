"""Known wrong: scales a in place to "save memory", changing the caller's array."""

import numpy as np


def matmul(a, b):
    a *= 1.0 + 1e-3  # in place: the caller's a is changed
    out = (a[:, :, None].astype(np.float64) * b[None, :, :].astype(np.float64)).sum(axis=1)
    return (out / (1.0 + 1e-3)).astype(a.dtype)
