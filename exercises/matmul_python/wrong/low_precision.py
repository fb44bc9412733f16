"""Known wrong: multiplies and sums in float16, losing about three digits."""

import numpy as np


def matmul(a, b):
    a16, b16 = a.astype(np.float16), b.astype(np.float16)
    out = (a16[:, :, None] * b16[None, :, :]).sum(axis=1, dtype=np.float16)
    return out.astype(a.dtype)
