"""Optimizers written out: SGD, momentum (heavy-ball and Nesterov), Adam and AdamW.

Each optimizer holds a list of NumPy parameter arrays and updates them in place
from a list of gradients of the same shapes, with exactly torch.optim's update
rules, so the two agree step for step in float64:

- SGD:       p <- p - lr * (g + wd * p)
- Momentum:  buf <- mu * buf + (1 - dampening) * g   (buf = g on the first step)
             p <- p - lr * buf, or p - lr * (g + mu * buf) with Nesterov (Sutskever et al., 2013)
- Adam:      m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  both bias-corrected by
             1 - b^t;  p <- p - lr * m_hat / (sqrt(v_hat) + eps)   (Kingma & Ba, 2015,
             https://arxiv.org/abs/1412.6980); weight_decay adds wd * p to g (L2, coupled)
- AdamW:     p <- p * (1 - lr * wd) first, then Adam without the L2 term: the decay is
             decoupled from the adaptive scaling (Loshchilov & Hutter, 2019,
             https://arxiv.org/abs/1711.05101)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Optimizer:
    """Shared plumbing: keep the parameters, check gradients, count steps.

    Args:
        params: arrays updated in place by step().
        lr: learning rate (>= 0); a scheduler may change it between steps.
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("params: expected at least one array, got none")
        for i, p in enumerate(self.params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                raise ValueError(f"params[{i}]: expected a floating numpy.ndarray")
        if not lr >= 0:
            raise ValueError(f"lr: expected >= 0, got {lr!r}")
        self.lr = float(lr)
        self.t = 0

    def _checked(self, grads: Sequence[np.ndarray]) -> list[np.ndarray]:
        grads = [np.asarray(g) for g in grads]
        if len(grads) != len(self.params):
            raise ValueError(f"grads: expected {len(self.params)} arrays, got {len(grads)}")
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}]: expected shape {p.shape}, got {g.shape}")
        return grads

    def step(self, grads: Sequence[np.ndarray]) -> None:
        """Apply one update to every parameter from its gradient."""
        grads = self._checked(grads)
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            self._update(i, p, g)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain stochastic gradient descent, like torch.optim.SGD(momentum=0).

    Example:
        >>> import numpy as np
        >>> w = np.array([1.0, -2.0])
        >>> SGD([w], lr=0.1).step([np.array([1.0, 1.0])])
        >>> w
        array([ 0.9, -2.1])
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.weight_decay = weight_decay

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p
        p -= self.lr * g


class Momentum(Optimizer):
    """SGD with a velocity buffer, like torch.optim.SGD(momentum=mu, nesterov=...).

    Example:
        >>> import numpy as np
        >>> w = np.zeros(1); opt = Momentum([w], lr=1.0, momentum=0.5)
        >>> for _ in range(3): opt.step([np.ones(1)])
        >>> w  # buffers 1, 1.5, 1.75
        array([-4.25])
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float, momentum: float = 0.9,
                 dampening: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov: needs momentum > 0 and dampening == 0")
        self.momentum, self.dampening = momentum, dampening
        self.nesterov, self.weight_decay = nesterov, weight_decay
        self.buffers: list[np.ndarray | None] = [None] * len(self.params)

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        if self.weight_decay:
            g = g + self.weight_decay * p
        buf = self.buffers[i]
        if buf is None:  # subtle: torch starts the buffer at g itself, undamped
            buf = self.buffers[i] = np.array(g, dtype=p.dtype)
        else:
            buf *= self.momentum
            buf += (1 - self.dampening) * g
        step = g + self.momentum * buf if self.nesterov else buf
        p -= self.lr * step


class Adam(Optimizer):
    """Adam with bias correction, like torch.optim.Adam (amsgrad=False).

    Example:
        >>> import numpy as np
        >>> w = np.array([1.0]); Adam([w], lr=0.1).step([np.array([3.0])])
        >>> w.round(6)  # the first step moves by about lr, whatever the gradient's size
        array([0.9])
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def _decay(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Adam's (coupled, L2) weight decay: fold wd * p into the gradient."""
        return g + self.weight_decay * p if self.weight_decay else g

    def _update(self, i: int, p: np.ndarray, g: np.ndarray) -> None:
        g = self._decay(p, g)
        m, v = self.m[i], self.v[i]
        m += (1 - self.beta1) * (g - m)  # = b1 m + (1 - b1) g, rounded as torch's lerp
        v *= self.beta2
        v += (1 - self.beta2) * (g * g)
        step_size = self.lr / (1 - self.beta1 ** self.t)
        # subtle: eps is added to sqrt(v_hat), not to v, and after the bias correction
        denom = np.sqrt(v) / np.sqrt(1 - self.beta2 ** self.t) + self.eps
        p -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay, like torch.optim.AdamW (default wd 0.01).

    Example:
        >>> import numpy as np
        >>> w = np.array([2.0]); AdamW([w], lr=0.1, weight_decay=0.5).step([np.zeros(1)])
        >>> w  # zero gradient: only the decay acts, 2 * (1 - 0.1 * 0.5)
        array([1.9])
    """

    def __init__(self, params: Sequence[np.ndarray], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay(self, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        p *= 1 - self.lr * self.weight_decay  # shrink the weights directly, not via g
        return g
