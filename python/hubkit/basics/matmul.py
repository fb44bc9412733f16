"""Matrix multiplication from scratch: three loops, then tiles of vectorized NumPy.

C = A @ B means C[i, j] = sum_k A[i, k] * B[k, j]. The triple loop is that
formula read aloud; the blocked version computes the same sums one (tile x tile)
block of C at a time, which is how every fast matmul (BLAS, CUDA, Triton) is
organised: a block of A and a block of B are loaded once and reused many times.

Shapes: a is (N, K), b is (K, M), the result is (N, M).
"""

from __future__ import annotations

import numpy as np


def _check_operands(a: np.ndarray, b: np.ndarray) -> None:
    """Raise ValueError naming the argument when a or b cannot be multiplied."""
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, np.ndarray):
            raise ValueError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
        if x.ndim != 2:
            raise ValueError(f"{name}: expected 2 dims, got shape {x.shape}")
    if a.shape[1] != b.shape[0]:
        raise ValueError(f"b: expected {a.shape[1]} rows to match a's columns, "
                         f"got shape {b.shape}")


def matmul_loops(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """C = A @ B with three nested Python loops (the definition, slow on purpose).

    Args:
        a: (N, K) array.
        b: (K, M) array.

    Returns:
        (N, M) array of dtype ``np.result_type(a, b)``; sums are kept in a
        Python float (float64) and rounded once at the end.

    Example:
        >>> import numpy as np
        >>> matmul_loops(np.array([[1.0, 2.0]]), np.array([[3.0], [4.0]]))
        array([[11.]])
    """
    _check_operands(a, b)
    n, k = a.shape
    m = b.shape[1]
    out = np.empty((n, m), dtype=np.result_type(a, b))
    for i in range(n):
        for j in range(m):
            acc = 0.0  # subtle: a Python float is float64, so float16 inputs do not lose sums
            for p in range(k):
                acc += float(a[i, p]) * float(b[p, j])
            out[i, j] = acc
    return out


def matmul_blocked(a: np.ndarray, b: np.ndarray, tile: int = 32) -> np.ndarray:
    """C = A @ B one (tile x tile) output block at a time, without np.matmul.

    Each block of C is the sum over k-tiles of a broadcast multiply of an A tile
    (rows x k) with a B tile (k x cols), reduced over k. Ragged edges (sizes that
    are not a multiple of ``tile``) are handled by slicing, which clips at the end.

    Args:
        a: (N, K) array.
        b: (K, M) array.
        tile: block edge length (> 0).

    Returns:
        (N, M) array of dtype ``np.result_type(a, b)``, accumulated in float64.

    Example:
        >>> import numpy as np
        >>> a = np.arange(6.0).reshape(2, 3); b = np.ones((3, 5))
        >>> matmul_blocked(a, b, tile=2)[:, 0]
        array([ 3., 12.])
    """
    _check_operands(a, b)
    if not isinstance(tile, int) or tile <= 0:
        raise ValueError(f"tile: expected a positive int, got {tile!r}")
    n, k = a.shape
    m = b.shape[1]
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    out = np.zeros((n, m), dtype=np.float64)
    for i in range(0, n, tile):
        for j in range(0, m, tile):
            for p in range(0, k, tile):
                a_t = a64[i:i + tile, p:p + tile]  # (ti, tk)
                b_t = b64[p:p + tile, j:j + tile]  # (tk, tj)
                out[i:i + tile, j:j + tile] += (a_t[:, :, None] * b_t[None, :, :]).sum(axis=1)
    return out.astype(np.result_type(a, b), copy=False)
