"""Known wrong: reads b as if it were stored transposed (b[j, k] instead of b[k, j])."""

import numpy as np


def matmul(a, b):
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            out[i, j] = (a[i, :].astype(np.float64) * b[j, :k].astype(np.float64)).sum()
    return out.astype(a.dtype)
