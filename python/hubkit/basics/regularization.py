"""Dropout and batch normalization, forward and backward, in train and eval mode.

Dropout (Srivastava et al., 2014, https://jmlr.org/papers/v15/srivastava14a.html)
zeroes each activation with probability p while training. Survivors are scaled
by 1 / (1 - p) ("inverted" dropout) so the expected activation is unchanged and
evaluation is the identity.

Batch normalization (Ioffe & Szegedy, 2015, https://arxiv.org/abs/1502.03167)
standardizes each channel with the batch's mean and (biased) variance, then
scales by gamma and shifts by beta. It also keeps running estimates, updated as
running <- (1 - momentum) * running + momentum * batch_stat, where the variance
fed in is the *unbiased* one (divided by n - 1). Evaluation uses only the
running estimates, so one sample's output does not depend on its batch.

Shapes: x is (N, C), (N, C, L) or (N, C, H, W); statistics are per channel C,
over every other axis (n = N * L or N * H * W values each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def dropout(x: np.ndarray, p: float, rng: np.random.Generator,
            training: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Inverted dropout; returns the output and the scaled mask (the backward multiplier).

    Args:
        x: any shape.
        p: drop probability in [0, 1].
        rng: source of the keep/drop draws.
        training: False makes this the identity (mask of ones).

    Returns:
        (y, mask), both shaped like x, with y = x * mask and mask in {0, 1/(1-p)}.
        The gradient of y with respect to x is `grad_y * mask`.

    Example:
        >>> import numpy as np
        >>> y, mask = dropout(np.ones(6), 0.5, np.random.default_rng(0))
        >>> sorted(set(y.tolist())) in ([0.0, 2.0], [0.0], [2.0])
        True
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
    if not training or p == 0:
        return x.copy(), np.ones_like(x)
    if p == 1:  # everything dropped; 1 / (1 - p) would divide by zero
        return np.zeros_like(x), np.zeros_like(x)
    keep = rng.random(x.shape) >= p
    mask = keep.astype(x.dtype) / (1 - p)
    return x * mask, mask


def _channel_axes(x: np.ndarray, name: str = "x") -> tuple[int, ...]:
    """Every axis but the channel axis 1, after checking x has 2 to 4 dims."""
    if not isinstance(x, np.ndarray) or x.ndim not in (2, 3, 4):
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{name}: expected (N, C), (N, C, L) or (N, C, H, W), got {shape}")
    return (0, *range(2, x.ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape a (C,) vector to broadcast against a (N, C, ...) array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


@dataclass
class BatchNormCache:
    """What the backward pass needs from a training-mode forward."""

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    axes: tuple[int, ...]


def batch_norm_train(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                     eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 BatchNormCache]:
    """Normalize with this batch's statistics.

    Args:
        x: (N, C, ...) input.
        gamma, beta: (C,) scale and shift.
        eps: added to the variance before the square root.

    Returns:
        (y, mean, var_unbiased, cache): y shaped like x; the (C,) batch mean and
        unbiased variance (what the running estimates take in); the backward cache.
    """
    axes = _channel_axes(x)
    n = x.size // x.shape[1]
    if n < 2:
        raise ValueError(f"x: expected more than one value per channel, got shape {x.shape}")
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)  # biased (divide by n): this is what normalizes
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - _per_channel(mean, x.ndim)) * _per_channel(inv_std, x.ndim)
    y = x_hat * _per_channel(gamma, x.ndim) + _per_channel(beta, x.ndim)
    return y, mean, var * n / (n - 1), BatchNormCache(x_hat, inv_std, gamma, axes)


def batch_norm_backward(dy: np.ndarray,
                        cache: BatchNormCache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a training-mode batch norm: (dx, dgamma, dbeta).

    The mean and variance depend on every x, so dx has two correction terms:
    dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)), with g = dy * gamma
    and the means taken per channel.
    """
    axes, x_hat = cache.axes, cache.x_hat
    dgamma = (dy * x_hat).sum(axis=axes)
    dbeta = dy.sum(axis=axes)
    g = dy * _per_channel(cache.gamma, dy.ndim)
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * x_hat).mean(axis=axes, keepdims=True)
    dx = _per_channel(cache.inv_std, dy.ndim) * (g - mean_g - x_hat * mean_gx)
    return dx, dgamma, dbeta


def batch_norm_eval(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                    running_mean: np.ndarray, running_var: np.ndarray,
                    eps: float = 1e-5) -> np.ndarray:
    """Normalize with fixed running statistics (a per-channel affine map)."""
    _channel_axes(x)
    scale = gamma / np.sqrt(running_var + eps)
    shift = beta - running_mean * scale
    return x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)


class BatchNorm:
    """Batch norm with running statistics, like torch.nn.BatchNorm1d/2d.

    Args:
        num_features: C.
        eps: variance epsilon.
        momentum: weight of the new batch in the running estimates.
        dtype: parameter and statistic dtype.

    Example:
        >>> import numpy as np
        >>> bn = BatchNorm(2)
        >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
        >>> bn.forward(x, training=True).round(3)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> bn.running_mean, bn.running_var  # 0.9 * (0, 1) + 0.1 * (mean, unbiased var)
        (array([0.2, 2. ]), array([ 1.1, 20.9]))
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 dtype: np.dtype = np.float64):
        self.eps, self.momentum = eps, momentum
        self.gamma = np.ones(num_features, dtype=dtype)
        self.beta = np.zeros(num_features, dtype=dtype)
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)
        self.cache: BatchNormCache | None = None

    def forward(self, x: np.ndarray, training: bool) -> np.ndarray:
        """Normalize x (N, C, ...); in training also update the running statistics."""
        _channel_axes(x)
        if x.shape[1] != self.gamma.shape[0]:
            raise ValueError(f"x: expected {self.gamma.shape[0]} channels, got shape {x.shape}")
        if not training:
            return batch_norm_eval(x, self.gamma, self.beta, self.running_mean,
                                   self.running_var, self.eps)
        y, mean, var_unbiased, self.cache = batch_norm_train(x, self.gamma, self.beta, self.eps)
        m = self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * mean
        self.running_var = (1 - m) * self.running_var + m * var_unbiased
        return y

    def backward(self, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(dx, dgamma, dbeta) for the last training-mode forward."""
        if self.cache is None:
            raise ValueError("dy: no training-mode forward to differentiate; call forward first")
        return batch_norm_backward(dy, self.cache)
