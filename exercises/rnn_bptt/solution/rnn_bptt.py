"""A vanilla RNN over a sequence in NumPy, and backpropagation through time by hand.

    h_t = tanh(x_t w_ih^T + h_{t-1} w_hh^T + b)

Shapes: T time, B batch, I input size, H hidden size. Every sequence in the
batch has its own state: row k of h only ever depends on row k of x.
"""

from __future__ import annotations

import numpy as np


def rnn_forward(x, h0, w_ih, w_hh, b):
    """x (T, B, I), h0 (B, H), w_ih (H, I), w_hh (H, H), b (H,) -> hs (T, B, H), every h_t."""
    # BEGIN SOLUTION
    # starter> # Step 1: loop over t, h = tanh(x[t] @ w_ih.T + h @ w_hh.T + b), keep every h.
    # starter> raise NotImplementedError("not implemented yet")
    hs = np.empty((x.shape[0], *h0.shape))
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(x[t] @ w_ih.T + h @ w_hh.T + b)
        hs[t] = h
    return hs
    # END SOLUTION


def rnn_backward(grad_hs, x, h0, w_ih, w_hh, hs):
    """Given dL/dh_t for every t (grad_hs, (T, B, H)), return the gradients
    (dx (T, B, I), dh0 (B, H), dw_ih (H, I), dw_hh (H, H), db (H,))."""
    # BEGIN SOLUTION
    # starter> # Step 2: walk t from T-1 down to 0, carrying dh (the gradient reaching h_t
    # starter> #         from later steps) and adding grad_hs[t].
    # starter> # Step 3: through tanh: dz = dh * (1 - h_t^2); then dx[t], and the weight
    # starter> #         gradients accumulate over t; dh for step t-1 is dz @ w_hh.
    # starter> raise NotImplementedError("not implemented yet")
    dx = np.zeros_like(x)
    dw_ih, dw_hh, db = np.zeros_like(w_ih), np.zeros_like(w_hh), np.zeros(w_hh.shape[0])
    dh = np.zeros_like(h0)
    for t in range(x.shape[0] - 1, -1, -1):
        dh = dh + grad_hs[t]  # from the loss at step t and from step t+1
        dz = dh * (1.0 - hs[t] ** 2)
        h_prev = hs[t - 1] if t > 0 else h0
        dx[t] = dz @ w_ih
        dw_ih += dz.T @ x[t]
        dw_hh += dz.T @ h_prev
        db += dz.sum(axis=0)
        dh = dz @ w_hh
    return dx, dh, dw_ih, dw_hh, db
    # END SOLUTION
