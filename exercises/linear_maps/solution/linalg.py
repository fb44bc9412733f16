"""Linear maps, eigendecomposition and truncated SVD (exercise linear_maps).

Shapes: points (N, D) one point per row; a (D, D); x (M, N).
"""

import numpy as np


def apply_map(a, points):
    """Send each row point p to A p; returns (N, D)."""
    # BEGIN SOLUTION
    return np.asarray(points, dtype=np.float64) @ np.asarray(a, dtype=np.float64).T
    # END SOLUTION


def eigen_axes(a):
    """(eigenvalues largest first (D,), unit eigenvectors as columns (D, D)) of a symmetric a.

    Each eigenvector's largest-magnitude entry must be positive.
    """
    # BEGIN SOLUTION
    vals, vecs = np.linalg.eigh(np.asarray(a, dtype=np.float64))
    vals, vecs = vals[::-1], vecs[:, ::-1]
    pivot = np.abs(vecs).argmax(axis=0)
    signs = np.sign(vecs[pivot, np.arange(vecs.shape[1])])
    return vals, vecs * signs
    # END SOLUTION


def low_rank(x, k):
    """The best rank-k approximation of x (M, N): keep the k largest singular values."""
    # BEGIN SOLUTION
    u, s, vt = np.linalg.svd(np.asarray(x, dtype=np.float64), full_matrices=False)
    return (u[:, :k] * s[:k]) @ vt[:k]
    # END SOLUTION
