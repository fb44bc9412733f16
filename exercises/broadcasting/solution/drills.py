"""Broadcasting drills (exercise broadcasting): no for/while loops and no comprehensions.

Shapes: x (N, D), y (M, D), labels (N,), z (N, K), values (T,).
"""

import numpy as np


def pairwise_sq_distances(x, y):
    """(N, M) with entry [i, j] = sum over d of (x[i, d] - y[j, d])^2."""
    # BEGIN SOLUTION
    diff = x[:, None, :] - y[None, :, :]  # (N, M, D)
    return (diff ** 2).sum(axis=-1)
    # END SOLUTION


def one_hot(labels, k):
    """(N, K) float array: row i is 1 at column labels[i], 0 elsewhere."""
    # BEGIN SOLUTION
    return (labels[:, None] == np.arange(k)[None, :]).astype(np.float64)
    # END SOLUTION


def softmax_rows(z):
    """Softmax of each row of (N, K) logits; must stay finite for logits in the hundreds."""
    # BEGIN SOLUTION
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
    # END SOLUTION


def standardize_columns(x):
    """Each column shifted to mean 0 and scaled to standard deviation 1 (divide by N)."""
    # BEGIN SOLUTION
    return (x - x.mean(axis=0)) / x.std(axis=0)
    # END SOLUTION


def moving_average(values, window):
    """(T - window + 1,) means of every run of `window` consecutive values."""
    # BEGIN SOLUTION
    c = np.concatenate([[0.0], np.cumsum(values)])
    return (c[window:] - c[:-window]) / window
    # END SOLUTION
