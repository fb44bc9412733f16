"""Broadcasting drills: common operations written without a Python loop.

Broadcasting lines shapes up from the right; a dimension of size 1 (or a
missing one) is stretched to match the other operand, without copying. So
(N, 1, D) - (1, M, D) gives every pairwise difference (N, M, D), and a (D,)
vector subtracts from each row of an (N, D) matrix. Each drill below is one
or two such expressions; the loops they replace are in the docstrings.

Shapes: X (N, D), Y (M, D), labels (N,), K classes.
"""

from __future__ import annotations

import numpy as np


def pairwise_sq_distances(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(N, M) squared Euclidean distances |x_i - y_j|^2 (loop: for i, for j).

    Uses |x|^2 - 2 x.y + |y|^2, so no (N, M, D) temporary is built; clipped at 0
    because rounding can make a zero distance slightly negative.

    Example:
        >>> pairwise_sq_distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]]))
        array([[25.,  1.]])
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"y: expected (M, {x.shape[-1]}) to match x {x.shape}, got {y.shape}")
    d = (x ** 2).sum(1)[:, None] - 2 * x @ y.T + (y ** 2).sum(1)[None, :]  # (N,1)+(N,M)+(1,M)
    return np.maximum(d, 0.0)


def standardize_columns(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """(N, D) with every column at mean 0 and std 1: (x - mean) / std, the (D,) stats broadcast."""
    x = np.asarray(x, dtype=np.float64)
    return (x - x.mean(axis=0)) / np.maximum(x.std(axis=0), eps)


def one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    """(N, K) one-hot rows: labels[:, None] == arange(K)[None, :].

    Example:
        >>> one_hot(np.array([2, 0]), 3)
        array([[0., 0., 1.],
               [1., 0., 0.]])
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels: expected values in [0, {k}), "
                         f"got [{labels.min()}, {labels.max()}]")
    return (labels[:, None] == np.arange(k)[None, :]).astype(np.float64)


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (N, K) logits, max-shifted so exp cannot overflow."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))  # keepdims: (N, 1) broadcasts over K
    return e / e.sum(axis=1, keepdims=True)


def moving_average(x: np.ndarray, window: int) -> np.ndarray:
    """(N - window + 1,) means of every window of consecutive values, from one cumsum.

    Example:
        >>> moving_average(np.array([1.0, 2.0, 3.0, 4.0]), 2)
        array([1.5, 2.5, 3.5])
    """
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= window <= len(x):
        raise ValueError(f"window: expected 1 <= window <= {len(x)}, got {window!r}")
    c = np.concatenate([[0.0], np.cumsum(x)])
    return (c[window:] - c[:-window]) / window


def class_means(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """(K, D) mean of the rows of each class: one_hot^T @ x over the class counts."""
    oh = one_hot(labels, k)  # (N, K)
    counts = oh.sum(axis=0)[:, None]  # (K, 1)
    return (oh.T @ np.asarray(x, dtype=np.float64)) / np.maximum(counts, 1)


def nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """(N,) index of the closest centroid to each row (k-means' assignment step)."""
    return pairwise_sq_distances(x, centroids).argmin(axis=1)
