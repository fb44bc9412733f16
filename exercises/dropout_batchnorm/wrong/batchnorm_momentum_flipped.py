"""Known wrong: running = momentum * running + (1 - momentum) * batch.

Shapes: batch norm takes x of shape (N, C), (N, C, L) or (N, C, H, W) and keeps
per-channel (C,) statistics over every other axis; n is the number of values
per channel (N, N * L or N * H * W).
"""

from __future__ import annotations

import numpy as np


def dropout(x: np.ndarray, p: float, training: bool, rng: np.random.Generator) -> np.ndarray:
    """Inverted dropout: zero each element with probability p, scale survivors by 1 / (1 - p).

    Args:
        x: any shape; leave it unchanged.
        p: drop probability in [0, 1]; p = 1 drops everything.
        training: False returns x unchanged (a copy).
        rng: draw all randomness from this generator (e.g. rng.random(x.shape)).

    Returns:
        array shaped like x.
    """
    if not training or p == 0:
        return x.copy()
    if p == 1:
        return np.zeros_like(x)
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p)


def _axes(x: np.ndarray) -> tuple[int, ...]:
    """Every axis but the channel axis 1."""
    return (0, *range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """(C,) -> (1, C, 1, ...) so it broadcasts against x."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, running_mean: np.ndarray,
               running_var: np.ndarray, training: bool, momentum: float = 0.1,
               eps: float = 1e-5) -> np.ndarray:
    """Batch normalization forward, like torch.nn.BatchNorm1d/2d.

    Training: normalize with the batch mean and biased variance (divide by n),
    then update the running statistics in place:
    running <- (1 - momentum) * running + momentum * batch statistic, where the
    variance fed in is the unbiased one (divide by n - 1).
    Eval: normalize with running_mean and running_var; change nothing.

    Args:
        x: (N, C, ...) input; leave it unchanged.
        gamma, beta: (C,) scale and shift.
        running_mean, running_var: (C,) estimates, updated in place when training.
        training: which mode.
        momentum: weight of the new batch in the running estimates.
        eps: added to the variance before the square root.

    Returns:
        y shaped like x.
    """
    axes, nd = _axes(x), x.ndim
    if training:
        n = x.size // x.shape[1]
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= 1 - momentum
        running_var += momentum * var * n / (n - 1)
    else:
        mean, var = running_mean, running_var
    x_hat = (x - _per_channel(mean, nd)) / np.sqrt(_per_channel(var, nd) + eps)
    return x_hat * _per_channel(gamma, nd) + _per_channel(beta, nd)


def batch_norm_backward(dy: np.ndarray, x: np.ndarray, gamma: np.ndarray,
                        eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of training-mode batch norm: (dx, dgamma, dbeta).

    The batch mean and variance depend on every x, so dx is not just
    dy * gamma / std: it has two correction terms, one through each statistic.

    Args:
        dy: upstream gradient shaped like x.
        x: the forward input.
        gamma: (C,) scale.
        eps: the forward's eps.

    Returns:
        dx shaped like x, dgamma and dbeta of shape (C,).
    """
    axes, nd = _axes(x), x.ndim
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    inv_std = _per_channel(1.0 / np.sqrt(var + eps), nd)
    x_hat = (x - _per_channel(mean, nd)) * inv_std
    dgamma, dbeta = (dy * x_hat).sum(axis=axes), dy.sum(axis=axes)
    g = dy * _per_channel(gamma, nd)
    dx = inv_std * (g - g.mean(axis=axes, keepdims=True)
                    - x_hat * (g * x_hat).mean(axis=axes, keepdims=True))
    return dx, dgamma, dbeta

