"""Known wrong: computes only the first 32 x 32 block of C; the rest stays zero."""

import numpy as np


def matmul(a, b):
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m))
    a_t = a[:32].astype(np.float64)
    b_t = b[:, :32].astype(np.float64)
    out[:32, :32] = (a_t[:, :, None] * b_t[None, :, :]).sum(axis=1)
    return out.astype(a.dtype)
