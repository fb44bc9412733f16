"""Known wrong: Adam with eps inside the square root, sqrt(v_hat + eps).

Each optimizer keeps the list of NumPy parameter arrays it was given and, on
step(grads), updates every array *in place* (p -= ..., p *= ...) from the
gradient of the same shape. State (momentum buffers, Adam's moments, the step
count) lives on the optimizer.
"""

from __future__ import annotations

import numpy as np


class SGD:
    """p <- p - lr * (g + weight_decay * p)."""

    def __init__(self, params, lr, weight_decay=0.0):
        self.params, self.lr, self.weight_decay = list(params), lr, weight_decay

    def step(self, grads):
        for p, g in zip(self.params, grads, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p
            p -= self.lr * g


class Momentum:
    """SGD with a velocity buffer (torch.optim.SGD with momentum > 0).

    With d = g + weight_decay * p:
    buf <- d on the first step, then buf <- momentum * buf + (1 - dampening) * d;
    p <- p - lr * buf, or with nesterov p <- p - lr * (d + momentum * buf).
    """

    def __init__(self, params, lr, momentum=0.9, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        self.params, self.lr = list(params), lr
        self.momentum, self.dampening = momentum, dampening
        self.nesterov, self.weight_decay = nesterov, weight_decay
        self.buffers = [None] * len(self.params)

    def step(self, grads):
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.buffers[i] is None:
                self.buffers[i] = np.array(g, dtype=np.float64)
            else:
                self.buffers[i] = self.momentum * self.buffers[i] + (1 - self.dampening) * g
            buf = self.buffers[i]
            p -= self.lr * (g + self.momentum * buf if self.nesterov else buf)


class Adam:
    """Adam (Kingma & Ba, 2015) as torch.optim.Adam; weight_decay adds wd * p to g.

    t counts steps from 1. m <- b1 m + (1 - b1) g; v <- b2 v + (1 - b2) g^2;
    p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params, self.lr = list(params), lr
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.t = 0
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def step(self, grads):
        self.t += 1
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            g = self._gradient(p, g)
            m += (1 - self.beta1) * (g - m)  # b1 m + (1 - b1) g, rounded like torch
            v *= self.beta2
            v += (1 - self.beta2) * (g * g)
            step_size = self.lr / (1 - self.beta1 ** self.t)
            denom = np.sqrt(v / (1 - self.beta2 ** self.t) + self.eps)
            p -= step_size * (m / denom)

    def _gradient(self, p, g):
        """Adam's weight decay is L2: folded into the gradient."""
        return g + self.weight_decay * p if self.weight_decay else g


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as torch.optim.AdamW.

    Before the Adam update, p <- p * (1 - lr * weight_decay); the gradient is left alone.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _gradient(self, p, g):
        p *= 1 - self.lr * self.weight_decay
        return g

