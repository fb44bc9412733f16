"""Matrix multiplication from scratch: C = A @ B, written with loops and NumPy slicing.

Exercise matmul_python. Do not call np.matmul, the @ operator, np.dot, np.einsum,
np.tensordot or torch's matmul: the checker rejects them.

Shapes: a is (N, K), b is (K, M), the result is (N, M) with a's dtype.
"""

from __future__ import annotations

import numpy as np

TILE = 32  # output block edge: a (TILE x TILE) block of C is built from K-tiles of A and B


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C[i, j] = sum_k a[i, k] * b[k, j].

    Args:
        a: (N, K) float array (any strides; do not modify it).
        b: (K, M) float array of the same dtype.

    Returns:
        (N, M) array with a's dtype; accumulate in float64 and cast once at the end.
    """
    # BEGIN SOLUTION
    n, k = a.shape
    m = b.shape[1]
    out = np.zeros((n, m), dtype=np.float64)
    for i in range(0, n, TILE):
        for j in range(0, m, TILE):
            for p in range(0, k, TILE):
                a_t = a[i:i + TILE, p:p + TILE].astype(np.float64)  # (ti, tk)
                b_t = b[p:p + TILE, j:j + TILE].astype(np.float64)  # (tk, tj)
                # (ti, tk, 1) * (1, tk, tj) summed over the middle axis: one block of C
                out[i:i + TILE, j:j + TILE] += (a_t[:, :, None] * b_t[None, :, :]).sum(axis=1)
    return out.astype(a.dtype)
    # END SOLUTION
